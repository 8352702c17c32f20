// Kill -9 at 30+ points: the daemon (or the CLI, for the image store) armed with one failpoint
// (common/failpoint.h) is driven through a deploy, a replica's crash and restart, a scale up, a
// scale down and an undeploy until it dies at that point. Started again without it, the daemon
// must converge on what was asked (every replica once, none twice), leave nothing behind that no
// container owns (mounts, namespaces, addresses, DNS records, cgroups, veths, monitors,
// directories, names, half-copied volumes) and keep the image store whole.
#include <signal.h>

#include <chrono>
#include <map>
#include <thread>

#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Driver {
  daemon,      // the deployment scenario against the daemon
  cli_run_rm,  // `zlayer run -d` then `zlayer rm -f`
  cli_load,    // `zlayer load` of a new image
};

struct CrashPoint {
  const char* name;
  Driver driver = Driver::daemon;
  friend void PrintTo(const CrashPoint& p, std::ostream* os) { *os << p.name; }
};

// Every point compiled into zlayer (grep ZL_FAILPOINT src), and how to reach it.
const CrashPoint kPoints[] = {
    {"agent.apply.after-db"},
    {"create.after-lock"},
    {"create.after-name"},
    {"create.after-overlay"},
    {"volume.copy-up.midway"},
    {"create.after-volumes"},
    {"net.attach.after-netns"},
    {"create.after-netns"},
    {"create.after-config"},
    {"create.after-record"},
    {"create.after-runtime-create"},
    {"net.attach.after-cni-add"},
    {"net.attach.after-dns"},
    {"create.after-connect"},
    {"agent.replica.after-create"},
    {"start.before-runtime-start"},
    {"start.after-runtime-start"},
    {"agent.replica.after-start"},
    {"restart.after-runtime-delete"},
    {"agent.scale.after-db"},
    {"agent.discard.after-stop"},
    {"net.detach.after-netns-removed"},
    {"net.detach.after-cni-del"},
    {"teardown.after-runtime-delete"},
    {"teardown.after-unmount"},
    {"discard.after-rename"},
    {"agent.remove.after-db"},
    {"remove.after-kill", Driver::cli_run_rm},
    {"blob.commit.before-rename", Driver::cli_load},
    {"layer.unpack.before-commit", Driver::cli_load},
    {"image.commit.after-unpack", Driver::cli_load},
};

class CrashAt : public ReliabilityTest, public ::testing::WithParamInterface<CrashPoint> {
 protected:
  const std::string point_ = GetParam().name;
  const std::string spec_ = sleepers("crashy", 2, R"(    restart_policy: {kind: always, delay: 200ms}
    storage:
      - {type: named, name: tools, target: /bin}
)");

  // Polls until `done` holds (true) or the daemon died (false); fails the test on a timeout.
  bool until(const std::function<bool()>& done, const std::string& what, std::chrono::seconds timeout = 60s) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      note_containers();
      if (!daemon_alive()) return false;
      if (done()) return true;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << "timed out waiting for " << what << "\n" << daemon_log();
    return false;
  }

  // {replica index -> containers}, of the running containers of the current spec.
  std::map<int, int> running_replicas() {
    std::map<int, int> out;
    for (const auto& c : deployment_containers("crashy"))
      if (c["status"] == "running") ++out[std::stoi(c["labels"].value("zlayer.replica", "-1"))];
    return out;
  }
  bool exactly(int n) {
    auto r = running_replicas();
    if (deployment_containers("crashy").size() != static_cast<size_t>(n) || r.size() != static_cast<size_t>(n))
      return false;
    for (int i = 0; i < n; ++i)
      if (r[i] != 1) return false;
    return true;
  }

  // The scenario, step by step, until the daemon dies. Returns whether it died.
  bool drive_daemon() {
    start_daemon_armed(point_);
    if (HasFatalFailure()) return false;
    deploy(spec_);
    if (!until([&] { return exactly(2); }, "2 replicas")) return true;
    // A replica's process dies: the agent recreates it in place.
    auto before = deployment_containers("crashy");
    int pid = before[0]["pid"];
    ::kill(pid, SIGKILL);
    if (!until(
            [&] {
              auto d = api("GET", "/v1/deployments/crashy").body;
              return service(d, "app").value("restarts", 0) >= 1 && exactly(2);
            },
            "the killed replica back"))
      return true;
    zlayer({"scale", "crashy/app", "3"});
    if (!until([&] { return exactly(3); }, "3 replicas")) return true;
    zlayer({"scale", "crashy/app", "1"});
    if (!until([&] { return exactly(1); }, "1 replica")) return true;
    zlayer({"undeploy", "crashy"});
    until([&] { return deployment_containers("crashy").empty(); }, "no replica");
    return !daemon_alive();
  }

  // Started again: it converges on what the state db asks for, whatever step the crash cut.
  void converge() {
    start_daemon();
    ASSERT_FALSE(HasFatalFailure());
    auto deadline = Clock::now() + 60s;
    json d;
    int desired = 0;
    bool ok = false;
    while (Clock::now() < deadline && !ok) {
      auto a = api("GET", "/v1/deployments/crashy");
      desired = a.status == 200 ? service(a.body, "app")["replicas"]["desired"].get<int>() : 0;
      d = a.body;
      ok = exactly(desired);
      if (!ok) std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(ok) << "not converged on " << desired << " replica(s): " << deployment_containers("crashy").dump(2)
                    << "\n" << d.dump(2) << "\n" << daemon_log();
    expect_no_leaks("after the restart");
    // The replicas work: their volume holds the image's /bin whole (copy-up not cut short).
    for (const auto& c : deployment_containers("crashy")) {
      auto r = zlayer({"exec", c["name"].get<std::string>(), "sh", "-c", "ls /bin | wc -l"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, bin_entries_ + "\n") << "the volume over /bin is not the image's /bin";
    }
    if (desired > 0) {
      auto r = zlayer({"undeploy", "crashy"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    until([&] { return deployment_containers("crashy").empty(); }, "the undeploy", 30s);
    expect_no_leaks("after the undeploy");
  }

  std::string bin_entries_;
};

TEST_P(CrashAt, RecoversWithEveryReplicaOnceAndNothingLeaked) {
  auto bin = zlayer({"run", "--rm", "busybox:1.0", "sh", "-c", "ls /bin | wc -l"});
  ASSERT_EQ(bin.exit_code, 0) << bin.err;
  bin_entries_ = bin.out.substr(0, bin.out.find('\n'));
  switch (GetParam().driver) {
    case Driver::daemon: {
      bool died = drive_daemon();
      ASSERT_TRUE(died) << "the scenario never reached failpoint " << point_;
      std::string log = daemon_log();
      ASSERT_NE(log.find("zlayer: failpoint " + point_ + " hit"), std::string::npos) << log;
      note_containers();
      ASSERT_TRUE(reap_dead_daemon());
      converge();
      break;
    }
    case Driver::cli_run_rm: {
      auto run = zlayer({"run", "-d", "--name", "victim", "busybox:1.0", "sleep", "1000"});
      ASSERT_EQ(run.exit_code, 0) << run.err;
      note_containers();
      ::setenv("ZLAYER_FAILPOINTS", point_.c_str(), 1);
      auto rm = zlayer({"rm", "-f", "victim"});
      ::unsetenv("ZLAYER_FAILPOINTS");
      ASSERT_EQ(rm.signal, SIGKILL) << rm.out << rm.err;
      ASSERT_NE(rm.err.find("failpoint " + point_ + " hit"), std::string::npos) << rm.err;
      // Removing it again finishes the job.
      auto again = zlayer({"rm", "-f", "victim"});
      EXPECT_EQ(again.exit_code, 0) << again.err;
      EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
      expect_no_leaks("after the second rm");
      break;
    }
    case Driver::cli_load: {
      root_ = dir_->path() / "fresh-root";  // an empty store: the load writes every blob and layer
      ::setenv("ZLAYER_FAILPOINTS", point_.c_str(), 1);
      auto load = zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"});
      ::unsetenv("ZLAYER_FAILPOINTS");
      ASSERT_EQ(load.signal, SIGKILL) << load.out << load.err;
      ASSERT_NE(load.err.find("failpoint " + point_ + " hit"), std::string::npos) << load.err;
      expect_store_verifies();
      auto again = zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"});
      ASSERT_EQ(again.exit_code, 0) << again.err;
      expect_store_verifies();
      auto run = zlayer({"run", "--rm", "busybox:1.0", "cat", "/etc/passwd"});
      EXPECT_EQ(run.exit_code, 0) << run.err;
      EXPECT_NE(run.out.find("root:x:0:0"), std::string::npos);
      expect_no_leaks("after loading again");
      break;
    }
  }
}

std::string point_name(const ::testing::TestParamInfo<CrashPoint>& info) {
  std::string n = info.param.name;
  for (char& c : n)
    if (c == '.' || c == '-') c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Failpoints, CrashAt, ::testing::ValuesIn(kPoints), point_name);

}  // namespace
}  // namespace zl::testing
