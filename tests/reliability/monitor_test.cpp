// A replica's monitor (conmon) or its process killed with SIGKILL: the daemon reports the exit
// with the right reason, restarts the replica as its policy says, and leaves no process of the
// old one running unmonitored.
#include <signal.h>

#include <thread>

#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct MonitorCase {
  const char* label;
  bool kill_conmon;      // else the container's process
  const char* policy;    // restart_policy kind
  const char* reason;    // the exit's reason, as the REST API reports it
  const char* message;   // in the service's last_error
  friend void PrintTo(const MonitorCase& c, std::ostream* os) { *os << c.label; }
};

const MonitorCase kCases[] = {
    {"conmon_always", true, "always", "runtime_error", "conmon"},
    {"conmon_no", true, "no", "runtime_error", "conmon"},
    {"process_always", false, "always", "signal", "signal 9"},
    {"process_no", false, "no", "signal", "signal 9"},
};

bool alive(int pid) {
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
}

class KilledMonitor : public ReliabilityTest, public ::testing::WithParamInterface<MonitorCase> {};

TEST_P(KilledMonitor, IsReportedWithItsReasonAndTheReplicaRestartedByPolicy) {
  const MonitorCase& tc = GetParam();
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  auto r = deploy(sleepers("mon", 1, fmt::format("    restart_policy: {{kind: {}, delay: 200ms}}\n", tc.policy)),
                  "app.zlayer.yml", {"--wait", "--timeout", "60s"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto d = api("GET", "/v1/deployments/mon").body;
  json c = service(d, "app")["containers"][0];
  std::string id = c["id"];
  int pid = c["pid"];
  ASSERT_GT(pid, 0);
  auto conmon = read_file(root_ / "containers" / id / "conmon.pid");
  ASSERT_TRUE(conmon);
  int conmon_pid = std::stoi(*conmon);
  ASSERT_TRUE(alive(conmon_pid));
  ASSERT_EQ(::kill(tc.kill_conmon ? conmon_pid : pid, SIGKILL), 0);

  bool restarts = std::string(tc.policy) != "no";
  d = wait_for(
      "mon",
      [&](const json& d) {
        const auto& s = service(d, "app");
        if (s["containers"].size() != 1) return false;
        const auto& c = s["containers"][0];
        if (restarts) return s["restarts"] == 1 && c["status"] == "running" && c["pid"] != pid;
        return c["status"] == "exited";
      },
      30s, restarts ? "the replica restarted" : "the replica reported exited");
  const auto& s = service(d, "app");
  EXPECT_NE(s["last_error"].get<std::string>().find(tc.message), std::string::npos) << d.dump(2);
  EXPECT_EQ(s["containers"][0]["id"], id) << "restarted in place";
  if (!restarts) {
    auto ct = api("GET", "/v1/containers/" + id).body;
    EXPECT_EQ(ct["exit"]["reason"], tc.reason) << ct.dump(2);
    EXPECT_EQ(s["restarts"], 0);
  }
  // The old process does not run on unmonitored: reported exited is exited.
  for (int i = 0; i < 50 && alive(pid); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(alive(pid)) << "the replica's old process " << pid << " still runs";
  EXPECT_FALSE(alive(conmon_pid) && tc.kill_conmon);
  note_containers();
  auto leaks = settled_leaks(leak_scope(), 5);
  std::string list;
  for (const auto& l : leaks) list += "\n  " + l;
  EXPECT_TRUE(leaks.empty()) << list;
}

INSTANTIATE_TEST_SUITE_P(Kill9, KilledMonitor, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.label); });

}  // namespace
}  // namespace zl::testing
