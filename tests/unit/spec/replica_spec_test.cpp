// A service replica as a ContainerSpec: each per-container field of the spec lands in its place,
// with zlayer's labels; what belongs to the daemon does not.
#include <gtest/gtest.h>

#include "agent/replica_spec.h"
#include "runtime/vm/vm_runtime.h"
#include "spec/parse.h"

namespace zl {
namespace {

spec::DeploymentSpec full() {
  auto d = spec::load_deployment(ZLAYER_UNIT_TEST_DIR "/spec/full.zlayer.yml");
  EXPECT_TRUE(d) << d.error().message;
  if (!d) return {};
  auto st = spec::resolve_env(*d, [](const std::string& name) -> std::optional<std::string> {
    if (name == "SHOP_DB_PASSWORD") return "pw";
    return std::nullopt;
  });
  EXPECT_TRUE(st) << st.error().message;
  return *d;
}

TEST(ReplicaSpec, MapsEveryPerContainerField) {
  spec::DeploymentSpec d = full();
  auto c = container_spec_for(d, "web", 2);
  ASSERT_TRUE(c) << c.error().message;

  EXPECT_EQ(c->name, "shop-web-2");
  EXPECT_EQ(c->image, "ghcr.io/acme/web:1.4.2");
  EXPECT_EQ(c->entrypoint, (std::vector<std::string>{"/usr/bin/tini", "--"}));
  EXPECT_EQ(c->cmd, (std::vector<std::string>{"web", "--port", "8080"}));
  EXPECT_EQ(c->workdir, "/srv/app");
  EXPECT_EQ(c->env, (std::vector<std::string>{"DB_PASSWORD=pw", "LOG_LEVEL=info", "PORT=8080"}));
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_EQ(c->hostname, "web.shop.internal");
  EXPECT_EQ(c->stop_signal, "SIGQUIT");
  EXPECT_EQ(c->stop_timeout, 21);  // 20.5s, rounded up

  EXPECT_EQ(c->resources.cpus, 1.5);
  EXPECT_EQ(c->resources.memory, 512LL << 20);
  EXPECT_EQ(c->resources.pids_limit, 256);
  EXPECT_FALSE(c->resources.cpu_shares);
  EXPECT_FALSE(c->resources.memory_swap);

  EXPECT_EQ(c->cap_add, (std::vector<std::string>{"CAP_NET_BIND_SERVICE", "CAP_SYS_PTRACE"}));
  EXPECT_EQ(c->cap_drop, (std::vector<std::string>{"CAP_MKNOD"}));
  EXPECT_FALSE(c->privileged);
  EXPECT_TRUE(c->read_only_rootfs);
  EXPECT_EQ(c->sysctls, (std::map<std::string, std::string>{{"net.core.somaxconn", "1024"}}));

  ASSERT_EQ(c->ulimits.size(), 3u);  // by name
  EXPECT_EQ(c->ulimits[0].name, "core");
  EXPECT_EQ(c->ulimits[0].soft, 0u);
  EXPECT_EQ(c->ulimits[1].name, "memlock");
  EXPECT_EQ(c->ulimits[1].hard, UINT64_MAX);
  EXPECT_EQ(c->ulimits[2].name, "nofile");
  EXPECT_EQ(c->ulimits[2].soft, 4096u);
  EXPECT_EQ(c->ulimits[2].hard, 8192u);

  ASSERT_EQ(c->devices.size(), 2u);
  EXPECT_EQ(c->devices[0].host_path, "/dev/fuse");
  EXPECT_EQ(c->devices[0].container_path, "");
  EXPECT_EQ(c->devices[0].permissions, "rw");
  EXPECT_EQ(c->devices[1].host_path, "/dev/net/tun");
  EXPECT_EQ(c->devices[1].permissions, "rm");

  ASSERT_EQ(c->mounts.size(), 3u);
  EXPECT_EQ(c->mounts[0].type, Mount::Type::bind);
  EXPECT_EQ(c->mounts[0].source, "/etc/shop");
  EXPECT_EQ(c->mounts[0].target, "/etc/shop");
  EXPECT_TRUE(c->mounts[0].read_only);
  EXPECT_TRUE(c->mounts[0].options.empty());
  EXPECT_EQ(c->mounts[1].type, Mount::Type::volume);
  EXPECT_EQ(c->mounts[1].source, "shop-uploads");
  EXPECT_EQ(c->mounts[1].target, "/srv/uploads");
  EXPECT_FALSE(c->mounts[1].read_only);
  EXPECT_EQ(c->mounts[2].type, Mount::Type::tmpfs);
  EXPECT_EQ(c->mounts[2].source, "");
  EXPECT_EQ(c->mounts[2].target, "/tmp");
  EXPECT_EQ(c->mounts[2].options, (std::vector<std::string>{"size=67108864", "mode=1777"}));

  const spec::ServiceSpec& web = *d.find_service("web");
  EXPECT_EQ(c->labels, (std::map<std::string, std::string>{{"com.acme.team", "storefront"},
                                                           {"tier", "frontend"},
                                                           {"zlayer.deployment", "shop"},
                                                           {"zlayer.health-gated", "true"},
                                                           {"zlayer.service", "web"},
                                                           {"zlayer.replica", "2"},
                                                           {"zlayer.spec-hash", spec::spec_hash(web)}}));

  // Not per container.
  EXPECT_FALSE(c->tty);
  EXPECT_FALSE(c->open_stdin);
  EXPECT_FALSE(c->auto_remove);
  EXPECT_FALSE(c->no_new_privileges);
  EXPECT_EQ(c->seccomp_profile, "");
}

TEST(ReplicaSpec, DefaultsLeaveTheRuntimesChoice) {
  spec::DeploymentSpec d = full();
  auto c = container_spec_for(d, "cache", 0);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->name, "shop-cache-0");
  EXPECT_EQ(c->image, "redis:7-alpine");
  EXPECT_FALSE(c->entrypoint);
  EXPECT_TRUE(c->cmd.empty());
  EXPECT_EQ(c->workdir, "");
  EXPECT_TRUE(c->env.empty());
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->hostname, "");
  EXPECT_EQ(c->stop_signal, "");
  EXPECT_FALSE(c->stop_timeout);
  EXPECT_FALSE(c->resources.cpus);
  EXPECT_FALSE(c->resources.memory);
  EXPECT_FALSE(c->resources.pids_limit);
  EXPECT_TRUE(c->mounts.empty());
  EXPECT_TRUE(c->cap_add.empty());
  EXPECT_EQ(c->labels.size(), 5u);  // zlayer's, with health-gated: an endpoint gets a tcp check
  EXPECT_EQ(c->labels.at(kHealthGatedLabel), "true");

  auto report = container_spec_for(d, "nightly-report", 1);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->entrypoint);
  EXPECT_EQ(report->cmd, (std::vector<std::string>{"report", "--since", "24h"}));
  EXPECT_FALSE(report->labels.contains(kHealthGatedLabel)) << "no check: its names are there at once";
}

TEST(ReplicaSpec, IsolationVmAsksForAMicroVm) {
  spec::DeploymentSpec d = full();
  auto db = container_spec_for(d, "db", 0);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(db->labels.at(vm::kIsolationLabel), "vm");
  EXPECT_TRUE(vm::is_vm(*db));
  EXPECT_FALSE(vm::is_vm(*container_spec_for(d, "web", 0)));  // isolation: process
}

TEST(ReplicaSpec, SpecHashLabelFollowsTheService) {
  spec::DeploymentSpec d = full();
  std::string before = container_spec_for(d, "web", 0)->labels.at(kSpecHashLabel);
  EXPECT_EQ(container_spec_for(d, "web", 1)->labels.at(kSpecHashLabel), before);  // same for every replica
  d.find_service("web")->scale.max = 20;
  EXPECT_EQ(container_spec_for(d, "web", 0)->labels.at(kSpecHashLabel), before);
  d.find_service("web")->resources.memory = 1LL << 30;
  EXPECT_NE(container_spec_for(d, "web", 0)->labels.at(kSpecHashLabel), before);
}

TEST(ReplicaSpec, Refusals) {
  spec::DeploymentSpec d = full();
  auto unknown = container_spec_for(d, "nope", 0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::not_found);
  EXPECT_EQ(unknown.error().message, "deployment shop has no service \"nope\"");

  auto negative = container_spec_for(d, "web", -1);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().kind, ErrorKind::invalid_argument);

  auto unresolved = spec::load_deployment(ZLAYER_UNIT_TEST_DIR "/spec/full.zlayer.yml");
  ASSERT_TRUE(unresolved);
  auto c = container_spec_for(*unresolved, "db", 0);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(
      c.error().message,
      "service db: env POSTGRES_PASSWORD takes $E:SHOP_DB_PASSWORD from zlayer's environment, which was not "
      "resolved");
}

}  // namespace
}  // namespace zl
