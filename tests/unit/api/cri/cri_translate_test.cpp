// The CRI translation layer without a daemon: records kept in labels, names, filters, and
// ContainerConfig / PodSandboxConfig as ContainerSpecs.
#include <gtest/gtest.h>

#include "api/cri/cri_services.h"

namespace zl::api::cri {
namespace {

SandboxMeta pod_meta() {
  return SandboxMeta{.name = "web",
                     .uid = "u-1",
                     .ns = "default",
                     .attempt = 2,
                     .labels = {{"app", "web"}},
                     .annotations = {{"a", "b"}},
                     .hostname = "web-host",
                     .log_directory = "/var/log/pods/default_web_u-1"};
}

TEST(CriMeta, RecordsRoundTripThroughTheirLabel) {
  SandboxMeta p = pod_meta();
  auto back = zl::cri::decode_sandbox(zl::cri::encode(p));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, p);
  ContainerMeta c{.name = "app", .attempt = 1, .labels = {{"x", "y"}}, .image = "busybox", .log_path = "/l/app/1.log"};
  auto cback = zl::cri::decode_container(zl::cri::encode(c));
  ASSERT_TRUE(cback);
  EXPECT_EQ(*cback, c);
  auto bad = zl::cri::decode_container("{not json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::invalid_argument);
}

TEST(CriMeta, NamesLikeOtherCriRuntimesWithOnlyAllowedCharacters) {
  SandboxMeta p = pod_meta();
  EXPECT_EQ(zl::cri::sandbox_name(p), "k8s_POD_web_default_u-1_2");
  EXPECT_EQ(zl::cri::container_name(ContainerMeta{.name = "app", .attempt = 0}, p), "k8s_app_web_default_u-1_0");
  p.name = "we b/x";
  EXPECT_EQ(zl::cri::sandbox_name(p), "k8s_POD_we-b-x_default_u-1_2");
}

TEST(CriMeta, LabelSelectorNeedsEveryKeyWithItsValue) {
  zl::cri::StringMap labels{{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(zl::cri::labels_match(labels, {}));
  EXPECT_TRUE(zl::cri::labels_match(labels, {{"app", "web"}}));
  EXPECT_FALSE(zl::cri::labels_match(labels, {{"app", "db"}}));
  EXPECT_FALSE(zl::cri::labels_match(labels, {{"app", "web"}, {"zone", "a"}}));
}

TEST(CriMeta, ResolvConfAndExitReasons) {
  EXPECT_EQ(zl::cri::resolv_conf({"10.0.0.10", "8.8.8.8"}, {"a.local", "b.local"}, {"ndots:5"}),
            "nameserver 10.0.0.10\nnameserver 8.8.8.8\nsearch a.local b.local\noptions ndots:5\n");
  EXPECT_EQ(zl::cri::resolv_conf({}, {}, {}), "");
  EXPECT_EQ(zl::cri::exit_reason(ExitInfo{.exit_code = 0}), "Completed");
  EXPECT_EQ(zl::cri::exit_reason(ExitInfo{.exit_code = 1}), "Error");
  EXPECT_EQ(zl::cri::exit_reason(ExitInfo{.exit_code = 137, .reason = ExitInfo::Reason::oom_killed}), "OOMKilled");
}

TEST(CriTranslate, SandboxSpecRunsThePauseImageWithThePodsNetworkAndFiles) {
  v1::PodSandboxConfig cfg;
  cfg.mutable_metadata()->set_name("web");
  cfg.mutable_metadata()->set_uid("u-1");
  cfg.mutable_metadata()->set_namespace_("default");
  cfg.set_hostname("web-host");
  cfg.mutable_dns_config()->add_servers("10.0.0.10");
  auto* pm = cfg.add_port_mappings();
  pm->set_container_port(80);
  pm->set_host_port(8080);
  pm->set_protocol(v1::UDP);
  (*cfg.mutable_labels())["app"] = "web";
  auto s = sandbox_spec(cfg, "registry.k8s.io/pause:3.9", "/root/cri/pods");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "k8s_POD_web_default_u-1_0");
  EXPECT_EQ(s->image, "registry.k8s.io/pause:3.9");
  EXPECT_EQ(s->hostname, "web-host");
  EXPECT_EQ(s->network_mode, "");
  ASSERT_EQ(s->ports.size(), 1u);
  EXPECT_EQ(s->ports[0], (PortMapping{.host_port = 8080, .container_port = 80, .protocol = "udp"}));
  ASSERT_EQ(s->mounts.size(), 1u);
  EXPECT_EQ(s->mounts[0].source, "/root/cri/pods/k8s_POD_web_default_u-1_0/resolv.conf");
  EXPECT_EQ(s->labels.at("app"), "web");
  EXPECT_EQ(s->labels.at(zl::cri::kKindLabel), "sandbox");

  cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  auto host = sandbox_spec(cfg, "pause", "/p");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->network_mode, "host");
  EXPECT_EQ(host->hostname, "");

  cfg.mutable_metadata()->clear_uid();
  EXPECT_FALSE(sandbox_spec(cfg, "pause", "/p"));
}

TEST(CriTranslate, ContainerSpecJoinsTheSandboxAndKeepsTheKubeletsFields) {
  ContainerInfo sandbox;
  sandbox.id = std::string(64, 'a');
  v1::ContainerConfig cfg;
  cfg.mutable_metadata()->set_name("app");
  cfg.mutable_metadata()->set_attempt(3);
  cfg.mutable_image()->set_image("busybox:1.36");
  cfg.add_command("/bin/server");
  cfg.add_args("--port=80");
  auto* env = cfg.add_envs();
  env->set_key("K");
  env->set_value("v=1");
  auto* m = cfg.add_mounts();
  m->set_container_path("/data");
  m->set_host_path("/srv/data");
  m->set_readonly(true);
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  cfg.set_log_path("app/3.log");
  auto* lx = cfg.mutable_linux();
  lx->mutable_resources()->set_cpu_quota(50000);
  lx->mutable_resources()->set_cpu_period(100000);
  lx->mutable_resources()->set_memory_limit_in_bytes(128 << 20);
  lx->mutable_resources()->set_cpu_shares(512);
  auto* sc = lx->mutable_security_context();
  sc->mutable_run_as_user()->set_value(1000);
  sc->mutable_run_as_group()->set_value(2000);
  sc->set_readonly_rootfs(true);
  sc->set_no_new_privs(true);
  sc->mutable_capabilities()->add_add_capabilities("NET_ADMIN");
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);

  auto s = container_spec(cfg, sandbox, pod_meta(), "/nonexistent-pod-dir");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->name, "k8s_app_web_default_u-1_3");
  EXPECT_EQ(s->network_mode, "container:" + sandbox.id);
  EXPECT_EQ(s->ipc_mode, "container:" + sandbox.id);  // unset options are POD (proto3's zero)
  EXPECT_EQ(s->pid_mode, "container:" + sandbox.id);
  EXPECT_EQ(s->hostname, "web-host");
  EXPECT_EQ(s->entrypoint, (std::vector<std::string>{"/bin/server"}));
  EXPECT_EQ(s->cmd, (std::vector<std::string>{"--port=80"}));
  EXPECT_EQ(s->env, (std::vector<std::string>{"K=v=1"}));
  ASSERT_EQ(s->mounts.size(), 1u);  // no resolv.conf in that pod dir
  EXPECT_EQ(s->mounts[0].source, "/srv/data");
  EXPECT_TRUE(s->mounts[0].read_only);
  EXPECT_EQ(s->mounts[0].options, (std::vector<std::string>{"rslave"}));
  EXPECT_EQ(s->resources.cpus, 0.5);
  EXPECT_EQ(s->resources.memory, 128 << 20);
  EXPECT_EQ(s->resources.cpu_shares, 512u);
  EXPECT_EQ(s->user, "1000:2000");
  EXPECT_TRUE(s->read_only_rootfs);
  EXPECT_TRUE(s->no_new_privileges);
  EXPECT_EQ(s->cap_add, (std::vector<std::string>{"NET_ADMIN"}));
  EXPECT_EQ(s->cap_drop, (std::vector<std::string>{"ALL"}));
  EXPECT_EQ(s->seccomp_profile, "unconfined");
  EXPECT_EQ(s->labels.at(zl::cri::kSandboxLabel), sandbox.id);
  auto meta = zl::cri::decode_container(s->labels.at(zl::cri::kMetaLabel));
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->log_path, "/var/log/pods/default_web_u-1/app/3.log");
  EXPECT_EQ(meta->image, "busybox:1.36");

  // No command: the image's entrypoint stays. The kubelet's default: a PID namespace of its own.
  cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  cfg.clear_command();
  auto plain = container_spec(cfg, sandbox, pod_meta(), "/nonexistent-pod-dir");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->entrypoint);
  EXPECT_EQ(plain->pid_mode, "");
  cfg.mutable_image()->clear_image();
  EXPECT_FALSE(container_spec(cfg, sandbox, pod_meta(), "/p"));
}

TEST(CriTranslate, ErrorKindsBecomeGrpcCodes) {
  EXPECT_EQ(to_grpc(Error{ErrorKind::not_found, "x"}).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(to_grpc(Error{ErrorKind::conflict, "x"}).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(to_grpc(Error{ErrorKind::invalid_argument, "x"}).error_message(), "x");
  EXPECT_TRUE(to_grpc(zl::Status{}).ok());
}

}  // namespace
}  // namespace zl::api::cri
