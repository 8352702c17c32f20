// Reading a whole spec: every field of tests/unit/spec/full.zlayer.yml, the defaults of a minimal
// one, the canonical JSON (which reads back as the same spec) and the hash of a service.
#include <gtest/gtest.h>

#include "spec/parse.h"

namespace zl::spec {
namespace {

using namespace std::chrono_literals;

const char* kFull = ZLAYER_UNIT_TEST_DIR "/spec/full.zlayer.yml";

DeploymentSpec load_full() {
  auto d = load_deployment(kFull);
  EXPECT_TRUE(d) << d.error().message;
  return d ? *d : DeploymentSpec{};
}

TEST(SpecParse, FullExampleTopLevel) {
  DeploymentSpec d = load_full();
  EXPECT_EQ(d.version, "v1");
  EXPECT_EQ(d.deployment, "shop");
  EXPECT_EQ(d.source, kFull);
  ASSERT_EQ(d.services.size(), 4u);
  // The file's order, not alphabetical.
  EXPECT_EQ(d.services[0].name, "web");
  EXPECT_EQ(d.services[1].name, "db");
  EXPECT_EQ(d.services[2].name, "cache");
  EXPECT_EQ(d.services[3].name, "nightly-report");
  EXPECT_EQ(d.find_service("db"), &d.services[1]);
  EXPECT_EQ(d.find_service("nope"), nullptr);
}

TEST(SpecParse, FullExampleWebService) {
  DeploymentSpec d = load_full();
  const ServiceSpec& s = *d.find_service("web");
  EXPECT_EQ(s.rtype, ResourceType::service);
  EXPECT_FALSE(s.schedule);
  EXPECT_EQ(s.image.name, "ghcr.io/acme/web:1.4.2");
  EXPECT_EQ(s.image.pull_policy, PullPolicy::always);

  EXPECT_EQ(s.resources.cpu, 1.5);
  EXPECT_EQ(s.resources.memory, 512LL << 20);
  EXPECT_EQ(s.resources.pids_limit, 256);

  ASSERT_EQ(s.env.size(), 3u);
  EXPECT_EQ(s.env.at("LOG_LEVEL"), (EnvValue{"info", std::nullopt, false}));
  EXPECT_EQ(s.env.at("PORT").value, "8080");
  EXPECT_EQ(s.env.at("DB_PASSWORD").host_var, "SHOP_DB_PASSWORD");
  EXPECT_FALSE(s.env.at("DB_PASSWORD").resolved);

  EXPECT_EQ(s.command.entrypoint, (std::vector<std::string>{"/usr/bin/tini", "--"}));
  EXPECT_EQ(s.command.args, (std::vector<std::string>{"web", "--port", "8080"}));
  EXPECT_EQ(s.command.workdir, "/srv/app");  // normalized

  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[0], (EndpointSpec{"http", Protocol::http, 80, 8080, "/shop", Expose::public_}));
  EXPECT_EQ(s.endpoints[1],
            (EndpointSpec{"metrics", Protocol::tcp, 9100, 9100, std::nullopt, Expose::internal}));

  EXPECT_EQ(s.scale.mode, ScaleMode::adaptive);
  EXPECT_EQ(s.scale.min, 2u);
  EXPECT_EQ(s.scale.max, 8u);
  EXPECT_EQ(s.scale.cooldown, 90s);
  EXPECT_EQ(s.scale.targets, (ScaleTargets{70, 80, 500}));

  ASSERT_EQ(s.depends.size(), 2u);
  EXPECT_EQ(s.depends[0], (DependsSpec{"db", DependencyCondition::healthy, 2min, TimeoutAction::warn}));
  EXPECT_EQ(s.depends[1], (DependsSpec{"cache", DependencyCondition::started, 300s, TimeoutAction::fail}));

  ASSERT_TRUE(s.health);
  EXPECT_EQ(s.health->start_grace, 10s);
  EXPECT_EQ(s.health->interval, 15s);
  EXPECT_EQ(s.health->timeout, 2s);
  EXPECT_EQ(s.health->retries, 5u);
  EXPECT_EQ(s.health->check.type, HealthCheckType::http);
  EXPECT_EQ(s.health->check.url, "/healthz");
  EXPECT_EQ(s.health->check.port, 8080);  // the http endpoint's target port
  EXPECT_EQ(s.health->check.expect_status, 204);

  ASSERT_TRUE(s.restart_policy);
  EXPECT_EQ(*s.restart_policy, (RestartPolicy{RestartKind::on_failure, 5u, Duration(500ms)}));

  ASSERT_EQ(s.storage.size(), 3u);
  EXPECT_EQ(s.storage[0], (StorageSpec{StorageType::bind, "/etc/shop", "/etc/shop", true, {}, {}}));
  EXPECT_EQ(s.storage[1], (StorageSpec{StorageType::named, "shop-uploads", "/srv/uploads", false, {}, {}}));
  EXPECT_EQ(s.storage[2], (StorageSpec{StorageType::tmpfs, "", "/tmp", false, 64LL << 20, 01777u}));

  EXPECT_EQ(s.capabilities, (std::vector<std::string>{"CAP_NET_BIND_SERVICE", "CAP_SYS_PTRACE"}));
  EXPECT_EQ(s.cap_drop, (std::vector<std::string>{"CAP_MKNOD"}));
  EXPECT_FALSE(s.privileged);
  EXPECT_TRUE(s.read_only_root_fs);
  EXPECT_EQ(s.hostname, "web.shop.internal");
  EXPECT_EQ(s.labels,
            (std::map<std::string, std::string>{{"com.acme.team", "storefront"}, {"tier", "frontend"}}));
  EXPECT_EQ(s.user, "1000:1000");
  EXPECT_EQ(s.stop_signal, "SIGQUIT");
  EXPECT_EQ(s.stop_grace_period, Duration(20500ms));
  EXPECT_EQ(s.sysctls, (std::map<std::string, std::string>{{"net.core.somaxconn", "1024"}}));

  ASSERT_EQ(s.ulimits.size(), 3u);
  EXPECT_EQ(s.ulimits.at("nofile"), (UlimitSpec{4096, 8192}));
  EXPECT_EQ(s.ulimits.at("core"), (UlimitSpec{0, 0}));
  EXPECT_EQ(s.ulimits.at("memlock"), (UlimitSpec{UlimitSpec::kUnlimited, UlimitSpec::kUnlimited}));

  ASSERT_EQ(s.devices.size(), 2u);
  EXPECT_EQ(s.devices[0], (DeviceSpec{"/dev/fuse", true, true, false}));
  EXPECT_EQ(s.devices[1], (DeviceSpec{"/dev/net/tun", true, false, true}));

  EXPECT_EQ(s.isolation, Isolation::process);
  ASSERT_TRUE(s.lifecycle.post_start);
  EXPECT_EQ(s.lifecycle.post_start->command,
            (std::vector<std::string>{"/bin/sh", "-c", "/srv/app/warm-cache"}));
  ASSERT_TRUE(s.lifecycle.pre_stop);
  EXPECT_EQ(s.lifecycle.pre_stop->command, (std::vector<std::string>{"/srv/app/drain", "--timeout", "15"}));
}

TEST(SpecParse, FullExampleOtherServices) {
  DeploymentSpec d = load_full();
  const ServiceSpec& db = *d.find_service("db");
  EXPECT_EQ(db.image.pull_policy, PullPolicy::if_not_present);
  EXPECT_EQ(db.scale.mode, ScaleMode::fixed);
  EXPECT_EQ(db.scale.replicas, 1u);
  ASSERT_TRUE(db.health);
  EXPECT_EQ(db.health->check.type, HealthCheckType::command);
  EXPECT_EQ(db.health->check.command, (std::vector<std::string>{"/bin/sh", "-c", "pg_isready -U postgres"}));
  EXPECT_EQ(db.health->start_grace, 5s);  // defaults around a given check
  EXPECT_EQ(db.health->interval, 10s);
  EXPECT_EQ(db.health->timeout, 5s);
  EXPECT_EQ(db.health->retries, 3u);
  EXPECT_EQ(db.restart_policy->kind, RestartKind::always);
  EXPECT_EQ(db.isolation, Isolation::vm);

  const ServiceSpec& cache = *d.find_service("cache");
  EXPECT_EQ(cache.image.pull_policy, PullPolicy::never);
  EXPECT_EQ(cache.scale.mode, ScaleMode::manual);
  // No health given, a tcp endpoint: the reference's default tcp check on it.
  ASSERT_TRUE(cache.health);
  EXPECT_EQ(cache.health->check, (HealthCheck{HealthCheckType::tcp, 6379, "", 200, {}}));
  EXPECT_EQ(cache.health->start_grace, 5s);
  EXPECT_EQ(cache.health->retries, 3u);

  const ServiceSpec& cron = *d.find_service("nightly-report");
  EXPECT_EQ(cron.rtype, ResourceType::cron);
  ASSERT_TRUE(cron.schedule);
  EXPECT_EQ(cron.schedule->expression(), "0 30 2 * * MON-FRI *");
  EXPECT_FALSE(cron.health);  // no endpoints, no default check
  EXPECT_EQ(cron.restart_policy->kind, RestartKind::no);
  EXPECT_EQ(cron.depends[0].condition, DependencyCondition::healthy);  // reference default
}

TEST(SpecParse, MinimalSpecDefaults) {
  auto d = parse_deployment(
      "version: v1\ndeployment: app\nservices:\n  hello:\n    image:\n      name: hello-world\n", "min.yml");
  ASSERT_TRUE(d) << d.error().message;
  const ServiceSpec& s = d->services.at(0);
  EXPECT_EQ(s.rtype, ResourceType::service);
  EXPECT_EQ(s.image.pull_policy, PullPolicy::if_not_present);
  // The reference's default scale.
  EXPECT_EQ(s.scale, (ScaleSpec{ScaleMode::adaptive, 0, 1, 10, 30s, {}}));
  EXPECT_FALSE(s.health);
  EXPECT_FALSE(s.restart_policy);
  EXPECT_EQ(s.isolation, Isolation::process);
  EXPECT_FALSE(s.privileged);
  EXPECT_TRUE(s.env.empty());
  EXPECT_FALSE(s.command.entrypoint);

  auto empty = parse_deployment("version: v1\ndeployment: app\n", "e.yml");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->services.empty());
}

TEST(SpecParse, JsonInputAndScalarsWrittenAsStrings) {
  auto d = parse_deployment(R"({"version": "v1", "deployment": "app", "services": {"w": {
      "image": {"name": "nginx"}, "scale": {"mode": "fixed", "replicas": "3"}, "privileged": "true",
      "storage": [{"type": "tmpfs", "target": "/run", "mode": "0o755"}]}}})",
                            "app.json");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->services[0].scale.replicas, 3u);
  EXPECT_TRUE(d->services[0].privileged);
  EXPECT_EQ(d->services[0].storage[0].mode, 0755u);

  // YAML 1.1 would read `no` as false; here it is the restart kind.
  auto no = parse_deployment(
      "version: v1\ndeployment: app\nservices:\n  w:\n    image: {name: x}\n"
      "    restart_policy: {kind: no}\n    ulimits: {nproc: -1, nofile: {hard: 10}}\n",
      "no.yml");
  ASSERT_TRUE(no) << no.error().message;
  EXPECT_EQ(no->services[0].restart_policy->kind, RestartKind::no);
  EXPECT_EQ(no->services[0].ulimits.at("nproc"),
            (UlimitSpec{UlimitSpec::kUnlimited, UlimitSpec::kUnlimited}));
  EXPECT_EQ(no->services[0].ulimits.at("nofile"), (UlimitSpec{10, 10}));
}

TEST(SpecJson, CanonicalFormReadsBackAsTheSameSpec) {
  DeploymentSpec d = load_full();
  nlohmann::json j = to_json(d);
  EXPECT_EQ(j["version"], "v1");
  EXPECT_EQ(j["deployment"], "shop");
  const auto& web = j["services"]["web"];
  EXPECT_EQ(web["resources"]["memory"], "512Mi");
  EXPECT_EQ(web["scale"]["cooldown"], "1m30s");
  EXPECT_EQ(web["stop_grace_period"], "20s500ms");
  EXPECT_EQ(web["env"]["DB_PASSWORD"], "$E:SHOP_DB_PASSWORD");
  EXPECT_EQ(web["storage"][2]["mode"], "1777");
  EXPECT_EQ(web["ulimits"]["memlock"]["soft"], "unlimited");
  EXPECT_EQ(web["endpoints"][1]["target_port"], 9100);
  EXPECT_EQ(web["health"]["check"]["url"], "/healthz");
  EXPECT_EQ(j["services"]["cache"]["health"]["check"]["port"], 6379);
  EXPECT_FALSE(web.contains("name"));

  auto back = parse_deployment(j.dump(2), "canonical.json");
  ASSERT_TRUE(back) << back.error().message << "\n" << j.dump(2);
  ASSERT_EQ(back->services.size(), d.services.size());
  for (const auto& s : d.services) {
    const ServiceSpec* t = back->find_service(s.name);
    ASSERT_NE(t, nullptr) << s.name;
    EXPECT_EQ(*t, s) << s.name << "\n" << to_json(s).dump(2) << "\n" << to_json(*t).dump(2);
  }
  EXPECT_EQ(to_json(*back), j);
}

TEST(SpecJson, HashFollowsWhatAReplicaIsMadeOf) {
  DeploymentSpec d = load_full();
  ServiceSpec s = *d.find_service("web");
  std::string h = spec_hash(s);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(spec_hash(s), h);  // stable

  ServiceSpec scaled = s;
  scaled.scale.min = 5;
  EXPECT_EQ(spec_hash(scaled), h) << "changing the replica count replaces nothing";

  ServiceSpec other_image = s;
  other_image.image.name = "ghcr.io/acme/web:1.4.3";
  EXPECT_NE(spec_hash(other_image), h);

  ServiceSpec other_env = s;
  other_env.env["LOG_LEVEL"].value = "debug";
  EXPECT_NE(spec_hash(other_env), h);

  // A "$E:" value: its resolved value counts, though to_json never shows it.
  ServiceSpec a = s, b = s;
  a.env["DB_PASSWORD"].value = "one";
  a.env["DB_PASSWORD"].resolved = true;
  b.env["DB_PASSWORD"].value = "two";
  b.env["DB_PASSWORD"].resolved = true;
  EXPECT_NE(spec_hash(a), spec_hash(b));
  EXPECT_EQ(to_json(a), to_json(b));
  EXPECT_EQ(to_json(a).dump().find("one"), std::string::npos);
}

}  // namespace
}  // namespace zl::spec
