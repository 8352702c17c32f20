// The agent daemon end to end: the real `zlayer daemon` on its unix socket, real containers
// (conmon + runc), driven through the CLI and the REST API.
#include <signal.h>
#include <sys/stat.h>

#include <set>
#include <thread>

#include "fixtures/daemon.h"

namespace zl::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Daemon : public DaemonTest {
 protected:
  static int64_t replicas(const json& d, const std::string& svc, const char* kind) {
    const auto& s = service(d, svc);
    return s.contains("replicas") ? s["replicas"][kind].get<int64_t>() : -1;
  }
  static std::string phase(const json& d, const std::string& svc) {
    const auto& s = service(d, svc);
    return s.contains("phase") ? s["phase"].get<std::string>() : "";
  }
  // Ids of the running containers of a service's current spec.
  static std::set<std::string> running_ids(const json& d, const std::string& svc) {
    std::set<std::string> out;
    for (const auto& c : service(d, svc)["containers"])
      if (c["status"] == "running" && c["current"] == true) out.insert(c["id"].get<std::string>());
    return out;
  }
  int count_containers(const std::string& label_value) {
    auto a = api("GET", "/v1/containers");
    int n = 0;
    for (const auto& c : a.body)
      if (c["labels"].value("zlayer.deployment", "") == label_value) ++n;
    return n;
  }
};

constexpr const char* kTwoServices = R"(version: v1
deployment: shop
services:
  db:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [httpd, -f, -p, "8080", -h, /tmp]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 1}
    health:
      start_grace: 500ms
      interval: 500ms
      timeout: 1s
      retries: 2
      check: {type: tcp, port: 8080}
  web:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    stop_grace_period: 1s
    env: {MODE: web}
    scale: {mode: fixed, replicas: 2}
    depends:
      - {service: db, condition: healthy, timeout: 60s}
)";

TEST_F(Daemon, SocketIsRootOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
}

TEST_F(Daemon, DeploysServicesInDependencyOrderAndReportsStatus) {
  auto r = deploy(kTwoServices, "app.zlayer.yml", {"--wait", "--timeout", "90s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("shop"), std::string::npos) << r.out;
  auto d = api("GET", "/v1/deployments/shop").body;
  EXPECT_EQ(phase(d, "db"), "running");
  EXPECT_EQ(phase(d, "web"), "running");
  EXPECT_EQ(replicas(d, "db", "healthy"), 1);
  EXPECT_EQ(replicas(d, "web", "running"), 2);
  // web started only once db was healthy: after db's start grace at least.
  int64_t db_started = service(d, "db")["containers"][0]["started_at"];
  for (const auto& c : service(d, "web")["containers"])
    EXPECT_GE(c["started_at"].get<int64_t>(), db_started + 500'000'000) << c.dump();
  // The containers are ordinary containers: `zlayer ps` shows them, env applied.
  auto ps = zlayer({"ps"});
  EXPECT_NE(ps.out.find("shop-web-0-"), std::string::npos) << ps.out;
  // ...with the health the agent judged, as docker ps shows it.
  EXPECT_NE(ps.out.find(" (healthy)"), std::string::npos) << ps.out;
  std::string web0 = service(d, "web")["containers"][0]["name"];
  auto env = zlayer({"exec", web0, "sh", "-c", "echo $MODE"});
  EXPECT_EQ(env.out, "web\n");
  // `zlayer status` prints the table.
  auto st = zlayer({"status"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("2/2/2"), std::string::npos) << st.out;
}

TEST_F(Daemon, ScalesUpAndDown) {
  ASSERT_EQ(deploy(kTwoServices, "app.zlayer.yml", {"--wait"}).exit_code, 0);
  auto up = zlayer({"scale", "web", "4"});
  ASSERT_EQ(up.exit_code, 0) << up.err;
  wait_for(
      "shop", [](const json& d) { return replicas(d, "web", "running") == 4; }, 60s, "4 web replicas");
  ASSERT_EQ(zlayer({"scale", "shop/web", "1"}).exit_code, 0);
  auto d = wait_for(
      "shop",
      [](const json& d) {
        return replicas(d, "web", "running") == 1 && service(d, "web")["containers"].size() == 1;
      },
      60s, "1 web replica");
  EXPECT_EQ(service(d, "web")["containers"][0]["replica"], 0);
  auto bad = zlayer({"scale", "nosuch", "2"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("no service named nosuch"), std::string::npos) << bad.err;
}

TEST_F(Daemon, RestartsACrashingReplicaWithBackoff) {
  auto r = deploy(R"(version: v1
deployment: crashy
services:
  boom:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "sleep 0.2; exit 3"]}
    scale: {mode: fixed, replicas: 1}
    restart_policy: {kind: on_failure, delay: 500ms}
)");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto d = wait_for(
      "crashy", [](const json& d) { return service(d, "boom")["restarts"].get<int64_t>() >= 3; }, 60s,
      "3 restarts");
  EXPECT_NE(service(d, "boom")["last_error"].get<std::string>().find("exited with code 3"), std::string::npos)
      << d.dump(2);
  // Backoff: 0.5 s, 1 s, 2 s... so three restarts take well over 3 s, and the loop is reported.
  wait_for(
      "crashy", [](const json& d) { return phase(d, "boom") == "CrashLoopBackOff"; }, 30s,
      "CrashLoopBackOff");
  auto metrics = api("GET", "/metrics");
  EXPECT_NE(metrics.raw.find("zlayer_restarts_total"), std::string::npos);
}

TEST_F(Daemon, RestartsAReplicaWhoseProcessWasKilled) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: steady
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 1}
)",
                   "app.zlayer.yml", {"--wait"})
                .exit_code,
            0);
  auto d = api("GET", "/v1/deployments/steady").body;
  const auto& c = service(d, "app")["containers"][0];
  int pid = c["pid"];
  std::string id = c["id"];
  ASSERT_GT(pid, 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  d = wait_for(
      "steady",
      [&](const json& d) {
        const auto& s = service(d, "app");
        return s["restarts"] == 1 && replicas(d, "app", "running") == 1 && s["containers"][0]["pid"] != pid;
      },
      30s, "the replica restarted");
  EXPECT_EQ(service(d, "app")["containers"][0]["id"], id) << "restarted in place, like docker";
  EXPECT_NE(service(d, "app")["last_error"].get<std::string>().find("signal 9"), std::string::npos)
      << d.dump(2);
}

TEST_F(Daemon, AFailingHealthCommandGetsTheReplicaRestarted) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: sick
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "touch /tmp/ok; exec sleep 1000"]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 1}
    health:
      start_grace: 200ms
      interval: 300ms
      timeout: 2s
      retries: 2
      check: {type: command, command: "test -f /tmp/ok"}
)",
                   "app.zlayer.yml", {"--wait"})
                .exit_code,
            0);
  auto d = api("GET", "/v1/deployments/sick").body;
  EXPECT_EQ(service(d, "app")["containers"][0]["health"], "healthy");
  std::string name = service(d, "app")["containers"][0]["name"];
  ASSERT_EQ(zlayer({"exec", name, "rm", "/tmp/ok"}).exit_code, 0);
  d = wait_for(
      "sick", [](const json& d) { return service(d, "app")["restarts"].get<int64_t>() >= 1; }, 30s,
      "a restart after failed checks");
  EXPECT_NE(service(d, "app")["last_error"].get<std::string>().find("health"), std::string::npos)
      << d.dump(2);
  // The restarted container creates /tmp/ok again (same rootfs) and turns healthy.
  wait_for(
      "sick", [](const json& d) { return service(d, "app")["containers"][0]["health"] == "healthy"; }, 30s,
      "healthy again");
}

TEST_F(Daemon, OnlyHealthyReplicasAnswerToTheServiceName) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: gate
services:
  api:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 1}
    health:
      interval: 300ms
      timeout: 2s
      retries: 3
      check: {type: command, command: "test -f /tmp/ok"}
)",
                   "gate.zlayer.yml")
                .exit_code,
            0);
  // The network's records, as its DNS server reads them: name -> addresses.
  auto records = [&] {
    auto text = read_file(root_ / "networks" / "zlayer" / "dns.json");
    return text ? json::parse(*text)["records"] : json::object();
  };
  auto d = wait_for(
      "gate", [](const json& d) { return !service(d, "api")["containers"].empty(); }, 30s, "a replica");
  std::string name = service(d, "api")["containers"][0]["name"];
  std::string ip = json::parse(zlayer({"inspect", name}).out)[0]["NetworkSettings"]["IPAddress"];
  ASSERT_FALSE(ip.empty());
  for (int i = 0; i < 50 && !records().contains("0.api.service.local"); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(records()["0.api.service.local"], json::array({ip})) << "the replica's own name is there at once";
  EXPECT_FALSE(records().contains("api")) << records().dump();

  ASSERT_EQ(zlayer({"exec", name, "touch", "/tmp/ok"}).exit_code, 0);
  wait_for(
      "gate", [](const json& d) { return service(d, "api")["containers"][0]["health"] == "healthy"; }, 30s,
      "healthy");
  EXPECT_EQ(records()["api"], json::array({ip})) << records().dump();
  EXPECT_EQ(records()["api.service.local"], json::array({ip}));

  ASSERT_EQ(zlayer({"exec", name, "rm", "/tmp/ok"}).exit_code, 0);
  wait_for(
      "gate", [](const json& d) { return service(d, "api")["restarts"].get<int64_t>() >= 1; }, 30s,
      "a restart after failed checks");
  EXPECT_FALSE(records().contains("api")) << records().dump();
  EXPECT_FALSE(records().contains("api.service.local"));
  EXPECT_TRUE(records().contains("0.api.service.local"));
}

TEST_F(Daemon, InspectShowsReplicaHealthFromDisk) {
  auto r = deploy(R"(version: v1
deployment: checked
services:
  up:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [httpd, -f, -p, "8080", -h, /tmp]}
    stop_grace_period: 1s
    health:
      start_grace: 200ms
      interval: 300ms
      timeout: 1s
      retries: 2
      check: {type: tcp, port: 8080}
  down:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    stop_grace_period: 1s
    restart_policy: {kind: "no"}
    health:
      start_grace: 200ms
      interval: 300ms
      timeout: 1s
      retries: 2
      check: {type: tcp, port: 9999}
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto d = wait_for(
      "checked",
      [](const json& d) {
        const auto& up = service(d, "up");
        const auto& down = service(d, "down");
        return up.contains("containers") && up["containers"].size() == 1 &&
               up["containers"][0]["health"] == "healthy" && down.contains("containers") &&
               down["containers"].size() == 1 && down["containers"][0]["health"] == "unhealthy";
      },
      60s, "up healthy and down unhealthy");
  ASSERT_FALSE(HasFailure());
  std::string up = service(d, "up")["containers"][0]["id"], down = service(d, "down")["containers"][0]["id"];
  EXPECT_EQ(service(d, "down")["restarts"], 0) << "restart_policy no: an unhealthy replica stays";

  // `zlayer inspect` reads the containers' state from disk: docker's State.Health.
  auto inspect = [&](const std::string& id) {
    auto i = zlayer({"inspect", id});
    EXPECT_EQ(i.exit_code, 0) << i.err;
    auto j = json::parse(i.out, nullptr, false);
    return j.is_array() && j.size() == 1 ? j[0]["State"] : json();
  };
  auto ok = inspect(up);
  ASSERT_TRUE(ok.contains("Health")) << ok.dump(2);
  EXPECT_EQ(ok["Health"]["Status"], "healthy") << ok.dump(2);
  EXPECT_EQ(ok["Health"]["FailingStreak"], 0);
  ASSERT_FALSE(ok["Health"]["Log"].empty()) << ok.dump(2);
  EXPECT_EQ(ok["Health"]["Log"].back()["ExitCode"], 0) << ok.dump(2);
  EXPECT_NE(ok["Health"]["Log"].back()["End"], "0001-01-01T00:00:00Z");

  // The failing one: the streak grows with every probe (it is written at each change).
  auto bad = inspect(down);
  ASSERT_TRUE(bad.contains("Health")) << bad.dump(2);
  EXPECT_EQ(bad["Health"]["Status"], "unhealthy") << bad.dump(2);
  int streak = bad["Health"]["FailingStreak"];
  EXPECT_GE(streak, 2) << bad.dump(2);
  ASSERT_FALSE(bad["Health"]["Log"].empty());
  EXPECT_LE(bad["Health"]["Log"].size(), 5u);
  EXPECT_EQ(bad["Health"]["Log"].back()["ExitCode"], 1);
  EXPECT_NE(bad["Health"]["Log"].back()["Output"].get<std::string>().find("tcp port 9999"), std::string::npos)
      << bad.dump(2);
  std::this_thread::sleep_for(1s);
  EXPECT_GT(inspect(down)["Health"]["FailingStreak"].get<int>(), streak);

  // A healthy replica's file is not rewritten at every passing probe.
  fs::path health_file = root_ / "containers" / up / "health.json";
  struct stat before = {}, after = {};
  ASSERT_EQ(::stat(health_file.c_str(), &before), 0);
  std::this_thread::sleep_for(1500ms);
  ASSERT_EQ(::stat(health_file.c_str(), &after), 0);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

  // The REST API's container and the Docker API's inspect say the same.
  auto rest = api("GET", "/v1/containers/" + down);
  ASSERT_EQ(rest.status, 200) << rest.raw;
  EXPECT_EQ(rest.body["health"]["status"], "unhealthy") << rest.raw;
  EXPECT_GE(rest.body["health"]["failing_streak"].get<int>(), 2) << rest.raw;
  EXPECT_EQ(api("GET", "/v1/containers/" + up).body["health"]["status"], "healthy");
  HttpRequest dr;
  dr.url = "http://docker/v1.41/containers/" + down + "/json";
  dr.unix_socket = (root_ / "run" / "docker.sock").string();
  auto docker = http_.perform(dr);
  ASSERT_TRUE(docker) << docker.error().message;
  auto dj = json::parse(docker->body, nullptr, false);
  ASSERT_TRUE(dj.is_object()) << docker->body;
  EXPECT_EQ(dj["State"]["Health"]["Status"], "unhealthy") << docker->body;
  EXPECT_GE(dj["State"]["Health"]["FailingStreak"].get<int>(), 2) << docker->body;

  // A container nothing checks has no Health.
  auto plain = zlayer({"run", "-d", "--name", "unchecked", "busybox:1.0", "sleep", "100"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(inspect("unchecked").contains("Health"));

  // Without the daemon, inspect still shows what it last recorded.
  kill_daemon();
  EXPECT_EQ(inspect(down)["Health"]["Status"], "unhealthy");
  EXPECT_EQ(inspect(up)["Health"]["Status"], "healthy");
}

TEST_F(Daemon, RollingUpdateReplacesOneReplicaAtATime) {
  auto spec = [](const std::string& v) {
    return R"(version: v1
deployment: roll
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [httpd, -f, -p, "8080", -h, /tmp]}
    stop_grace_period: 1s
    env: {VERSION: ")" +
           v + R"("}
    scale: {mode: fixed, replicas: 2}
    health:
      start_grace: 300ms
      interval: 300ms
      timeout: 1s
      retries: 2
      check: {type: tcp, port: 8080}
)";
  };
  ASSERT_EQ(deploy(spec("1"), "app.zlayer.yml", {"--wait"}).exit_code, 0);
  auto before = api("GET", "/v1/deployments/roll").body;
  std::string old_hash = service(before, "app")["spec_hash"];
  ASSERT_EQ(deploy(spec("2")).exit_code, 0);
  // Watch the rollout: never fewer than 2 healthy replicas... of the old or new kind, and never
  // more than one new replica not yet healthy at a time.
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    auto d = api("GET", "/v1/deployments/roll").body;
    const auto& s = service(d, "app");
    int up = 0, fresh_unready = 0, old_left = 0;
    for (const auto& c : s["containers"]) {
      if (c["status"] == "running") ++up;
      if (c["current"] == true && c["health"] != "healthy") ++fresh_unready;
      if (c["current"] == false) ++old_left;
    }
    EXPECT_GE(up, 2) << d.dump(2);
    EXPECT_LE(fresh_unready, 1) << d.dump(2);
    done = old_left == 0 && s["replicas"]["healthy"] == 2;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(done) << "the rollout did not finish";
  auto after = api("GET", "/v1/deployments/roll").body;
  EXPECT_NE(service(after, "app")["spec_hash"], old_hash);
  for (const auto& c : service(after, "app")["containers"]) {
    auto env = zlayer({"exec", c["name"].get<std::string>(), "sh", "-c", "echo $VERSION"});
    EXPECT_EQ(env.out, "2\n");
  }
}

TEST_F(Daemon, JobsRunToCompletionAndReportTheirExit) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: batch
services:
  good:
    rtype: job
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "echo done"]}
    scale: {mode: fixed, replicas: 2}
  bad:
    rtype: job
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "exit 4"]}
    scale: {mode: fixed, replicas: 1}
)")
                .exit_code,
            0);
  auto d = wait_for(
      "batch", [](const json& d) { return phase(d, "good") == "completed" && phase(d, "bad") == "failed"; },
      60s, "jobs to finish");
  EXPECT_NE(service(d, "bad")["message"].get<std::string>().find("exit code 4"), std::string::npos)
      << d.dump(2);
  EXPECT_EQ(service(d, "bad")["containers"][0]["exit_code"], 4);
  auto logs = zlayer({"logs", "good"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("done"), std::string::npos) << logs.out;
  // Not run again.
  std::this_thread::sleep_for(1500ms);
  d = api("GET", "/v1/deployments/batch").body;
  EXPECT_EQ(service(d, "good")["restarts"], 0);
}

TEST_F(Daemon, SpecErrorsNameFileLineAndColumnAndChangeNothing) {
  auto r = deploy(R"(version: v1
deployment: broken
services:
  web:
    image: {name: "busybox:1.0"}
    scale: {mode: fixed, replicas: three}
)",
                  "broken.zlayer.yml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("broken.zlayer.yml:6:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("replicas"), std::string::npos) << r.err;
  auto cyc = deploy(R"(version: v1
deployment: loop
services:
  a:
    image: {name: "busybox:1.0"}
    depends: [{service: b}]
  b:
    image: {name: "busybox:1.0"}
    depends: [{service: a}]
)");
  EXPECT_NE(cyc.exit_code, 0);
  EXPECT_NE(cyc.err.find("cycle"), std::string::npos) << cyc.err;
  EXPECT_EQ(api("GET", "/v1/deployments").body.size(), 0u);
  EXPECT_EQ(api("GET", "/v1/deployments/broken").status, 404);
}

TEST_F(Daemon, SurvivesKill9AndReadoptsItsContainers) {
  constexpr const char* spec = R"(version: v1
deployment: tough
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sleep, "1000"]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 3}
)";
  // Killed right after the deploy was accepted, while replicas are being made.
  ASSERT_EQ(deploy(spec).exit_code, 0);
  std::this_thread::sleep_for(150ms);
  kill_daemon();
  start_daemon();
  auto d = wait_for(
      "tough", [](const json& d) { return replicas(d, "app", "running") == 3; }, 60s, "3 replicas");
  EXPECT_EQ(count_containers("tough"), 3) << "no replica duplicated";
  auto ids = running_ids(d, "app");
  auto restarts = service(d, "app")["restarts"];  // a kill mid-start may have cost a restart
  // Killed when settled: started again, it adopts the same containers and makes none.
  kill_daemon();
  start_daemon();
  std::this_thread::sleep_for(1500ms);
  d = wait_for(
      "tough", [](const json& d) { return replicas(d, "app", "running") == 3; }, 30s, "3 replicas again");
  EXPECT_EQ(running_ids(d, "app"), ids);
  EXPECT_EQ(count_containers("tough"), 3);
  EXPECT_EQ(service(d, "app")["restarts"], restarts);
}

TEST_F(Daemon, UndeployRemovesEveryContainer) {
  ASSERT_EQ(deploy(kTwoServices, "app.zlayer.yml", {"--wait"}).exit_code, 0);
  EXPECT_EQ(count_containers("shop"), 3);
  auto r = zlayer({"undeploy", "shop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_containers("shop"), 0);
  EXPECT_EQ(api("GET", "/v1/deployments/shop").status, 404);
  auto again = zlayer({"undeploy", "shop"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("no deployment named shop"), std::string::npos) << again.err;
}

TEST_F(Daemon, ApiErrorsAreJsonWithTheirStatus) {
  auto a = api("GET", "/v1/deployments/nope");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["message"], "no deployment named nope");
  auto b = api("POST", "/v1/deployments/x/services/y/scale", "{\"replicas\": \"many\"}");
  EXPECT_EQ(b.status, 400);
  auto c = api("GET", "/v1/nothing-here");
  EXPECT_EQ(c.status, 404);
  auto m = api("PUT", "/v1/deployments");
  EXPECT_EQ(m.status, 405);
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

// Every answer of a tour of the API matches the OpenAPI document the daemon publishes.
TEST_F(Daemon, AnswersMatchTheOpenApiDocument) {
  ASSERT_EQ(deploy(kTwoServices, "app.zlayer.yml", {"--wait"}).exit_code, 0);
  nlohmann::json answers = nlohmann::json::array();
  auto record = [&](const std::string& method, const std::string& path, const std::string& route,
                    const std::string& body = "") {
    auto a = api(method, path, body);
    answers.push_back({{"method", method},
                       {"route", route},
                       {"status", a.status},
                       {"content_type", a.content_type},
                       {"body", a.raw}});
    return a;
  };
  record("GET", "/v1/ping", "/v1/ping");
  record("GET", "/v1/version", "/v1/version");
  auto doc = record("GET", "/v1/openapi.json", "/v1/openapi.json");
  record("GET", "/metrics", "/metrics");
  record("GET", "/v1/deployments", "/v1/deployments");
  record("GET", "/v1/deployments/shop", "/v1/deployments/{name}");
  record("GET", "/v1/deployments/nope", "/v1/deployments/{name}");
  record("POST", "/v1/deployments/shop/services/web/scale", "/v1/deployments/{name}/services/{service}/scale",
         R"({"replicas": 1})");
  record("POST", "/v1/deployments/shop/services/web/scale", "/v1/deployments/{name}/services/{service}/scale",
         R"({"replicas": "x"})");
  record("POST", "/v1/deployments/shop/services/web/restart",
         "/v1/deployments/{name}/services/{service}/restart");
  record("GET", "/v1/deployments/shop/services/db/logs?tail=5",
         "/v1/deployments/{name}/services/{service}/logs");
  record("GET", "/v1/services/web", "/v1/services/{ref}");
  record("GET", "/v1/services/nope", "/v1/services/{ref}");
  auto list = record("GET", "/v1/containers", "/v1/containers");
  ASSERT_TRUE(list.body.is_array() && !list.body.empty());
  record("GET", "/v1/containers/" + list.body[0]["id"].get<std::string>(), "/v1/containers/{id}");
  record("GET", "/v1/containers/nosuch", "/v1/containers/{id}");
  record("GET", "/v1/images", "/v1/images");
  record("POST", "/v1/deployments", "/v1/deployments", "version: v2\n");
  record("DELETE", "/v1/deployments/shop", "/v1/deployments/{name}");
  record("DELETE", "/v1/deployments/shop", "/v1/deployments/{name}");
  // The served document is the one in the source tree.
  EXPECT_EQ(doc.body,
            nlohmann::json::parse(read_file(fs::path(ZLAYER_SOURCE_DIR) / "src/api/openapi.json").value()));

  SubprocessOptions o;
  o.stdin_data = answers.dump();
  auto r = run_process({"/usr/bin/python3", std::string(ZLAYER_SOURCE_DIR) + "/tests/e2e/openapi_check.py",
                        std::string(ZLAYER_SOURCE_DIR) + "/src/api/openapi.json"},
                       o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

TEST_F(Daemon, CronServicesRunOnTheirSchedule) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: timer
services:
  tick:
    rtype: cron
    schedule: "*/2 * * * * * *"
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "echo tick"]}
)")
                .exit_code,
            0);
  auto d = wait_for(
      "timer",
      [](const json& d) {
        int done = 0;
        for (const auto& c : service(d, "tick")["containers"])
          if (c["status"] == "exited" && c.value("exit_code", -1) == 0) ++done;
        return done >= 2;
      },
      30s, "two cron runs");
  EXPECT_TRUE(service(d, "tick").contains("next_run")) << d.dump(2);
  // Old runs are pruned: at most three finished runs are kept.
  std::this_thread::sleep_for(9s);
  d = api("GET", "/v1/deployments/timer").body;
  EXPECT_LE(service(d, "tick")["containers"].size(), 4u) << d.dump(2);
}

TEST_F(Daemon, AdaptiveScalingAddsReplicasUnderCpuLoad) {
  ASSERT_EQ(deploy(R"(version: v1
deployment: busy
services:
  burner:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "while :; do :; done"]}
    stop_grace_period: 1s
    resources: {cpu: 0.5}
    scale:
      mode: adaptive
      min: 1
      max: 2
      cooldown: 1s
      targets: {cpu: 20}
)")
                .exit_code,
            0);
  auto d = wait_for(
      "busy", [](const json& d) { return replicas(d, "burner", "desired") == 2; }, 60s,
      "a second replica under load");
  wait_for(
      "busy", [](const json& d) { return replicas(d, "burner", "running") == 2; }, 30s, "2 running");
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

// Killed in the middle of a rolling update and in the middle of an undeploy: started again, the
// daemon finishes the job with exactly the wanted replicas and nothing left over.
TEST_F(Daemon, Kill9DuringARollingUpdateAndAnUndeploy) {
  auto spec = [](const std::string& v) {
    return R"(version: v1
deployment: midway
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [httpd, -f, -p, "8080", -h, /tmp]}
    stop_grace_period: 1s
    env: {VERSION: ")" +
           v + R"("}
    scale: {mode: fixed, replicas: 3}
    health:
      start_grace: 200ms
      interval: 300ms
      timeout: 1s
      retries: 2
      check: {type: tcp, port: 8080}
)";
  };
  ASSERT_EQ(deploy(spec("1"), "app.zlayer.yml", {"--wait"}).exit_code, 0);
  ASSERT_EQ(deploy(spec("2")).exit_code, 0);
  // Wait until the rollout is under way (old and new replicas side by side), then crash.
  wait_for(
      "midway",
      [](const json& d) {
        bool old = false, fresh = false;
        for (const auto& c : service(d, "app")["containers"]) (c["current"] == true ? fresh : old) = true;
        return old && fresh;
      },
      30s, "the rollout to start");
  kill_daemon();
  start_daemon();
  auto d = wait_for(
      "midway",
      [](const json& d) {
        const auto& s = service(d, "app");
        bool all_new = true;
        for (const auto& c : s["containers"]) all_new &= c["current"] == true;
        return all_new && s["containers"].size() == 3 && s["replicas"]["healthy"] == 3;
      },
      90s, "the rollout to finish after the crash");
  EXPECT_EQ(count_containers("midway"), 3);
  for (const auto& c : service(d, "app")["containers"]) {
    auto env = zlayer({"exec", c["name"].get<std::string>(), "sh", "-c", "echo $VERSION"});
    EXPECT_EQ(env.out, "2\n");
  }
  // An undeploy cut short by a crash: the deployment is gone from the db first, so the next
  // daemon removes the containers it finds labelled with it.
  std::thread undeploy([&] { api("DELETE", "/v1/deployments/midway"); });
  std::this_thread::sleep_for(200ms);
  kill_daemon();
  undeploy.join();
  start_daemon();
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (count_containers("midway") > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  EXPECT_EQ(count_containers("midway"), 0);
  EXPECT_EQ(api("GET", "/v1/deployments/midway").status, 404);
}

}  // namespace
}  // namespace zl::testing
