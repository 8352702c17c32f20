// Load: a daemon running 50 replicas answers a mixed stream of API requests (list, inspect, logs
// tail; both sockets) at up to 1,000 a second without one error, and holds no more fds or
// containers afterwards. The figures (rate held, p50/p99 latency, daemon RSS) are printed. Its
// length is ZLAYER_LOAD_SECONDS (5 here; 60 for the full run, see README).
// Churn: containers made and removed in rounds leave no mount, cgroup, netns, address or file
// (ZLAYER_CHURN_ROUNDS x 20; the long mode runs 200 a round for 10 minutes).
#include <algorithm>
#include <array>
#include <atomic>
#include <fstream>
#include <thread>

#include "reliability/raw_client.h"
#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

using namespace std::chrono_literals;

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

size_t open_fds(int pid) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++n;
  return n;
}

long rss_kib(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

class Load : public ReliabilityTest {};

TEST_F(Load, MixedRequestsOfferedAtAThousandASecondWithFiftyReplicasGetNoError) {
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  auto d = deploy(sleepers("load", 50));
  ASSERT_EQ(d.exit_code, 0) << d.err;
  wait_for("load", [](const nlohmann::json& s) { return service(s, "app")["replicas"]["running"] == 50; }, 120s,
           "50 running replicas");
  ASSERT_FALSE(HasFatalFailure());
  std::vector<std::string> ids;
  for (const auto& c : deployment_containers("load")) ids.push_back(c["id"].get<std::string>());
  ASSERT_EQ(ids.size(), 50u);

  int pid = daemon_->pid();
  size_t fds_before = open_fds(pid);
  const int seconds = env_int("ZLAYER_LOAD_SECONDS", 5), rate = 1000, threads = 16;
  fs::path native = socket(), docker = root_ / "run" / "docker.sock";
  std::atomic<int> errors{0};
  std::vector<std::vector<double>> latencies(threads);
  std::array<std::atomic<int64_t>, 3> kind_us{};  // total time per kind: list, inspect, logs
  std::vector<std::string> first_error(threads);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      const int per_thread = rate / threads;
      const auto gap = std::chrono::microseconds(1'000'000 / per_thread);
      for (int i = 0; i < per_thread * seconds; ++i) {
        std::this_thread::sleep_until(t0 + gap * i);  // paced: the rate, not as fast as it goes
        const std::string& id = ids[static_cast<size_t>(i * threads + t) % ids.size()];
        bool via_docker = i % 3 == 2;
        std::string req = i % 3 == 0   ? request("GET", "/v1/containers")
                          : i % 3 == 1 ? request("GET", "/v1/containers/" + id)
                                       : request("GET", "/containers/" + id + "/logs?stdout=1&stderr=1&tail=5");
        auto start = std::chrono::steady_clock::now();
        RawClient c(via_docker ? docker : native);
        std::optional<std::string> answer;
        if (c.connected() && c.send(req)) answer = c.read_until_closed(10s);
        int status = answer ? status_of(*answer) : 0;
        auto took_us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        latencies[t].push_back(static_cast<double>(took_us.count()) / 1000.0);
        kind_us[static_cast<size_t>(i % 3)] += took_us.count();
        if (status != 200) {
          if (errors++ == 0) first_error[t] = req.substr(0, req.find('\r')) + " -> " + answer.value_or("(no answer)").substr(0, 200);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all[std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())))]; };
  std::printf("load: %zu requests in %.1f s (%.0f/s; target %d/s), errors %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms, "
              "daemon RSS %ld KiB, fds %zu -> %zu\n",
              all.size(), took, static_cast<double>(all.size()) / took, rate, errors.load(), pct(0.5), pct(0.99),
              all.back(), rss_kib(pid), fds_before, open_fds(pid));
  double per_kind = static_cast<double>(all.size()) / 3 * 1000;
  std::printf("load: mean ms by kind: list %.2f, inspect %.2f, logs tail %.2f\n", kind_us[0] / per_kind,
              kind_us[1] / per_kind, kind_us[2] / per_kind);
  EXPECT_EQ(errors.load(), 0) << [&] {
    std::string s;
    for (auto& e : first_error) s += e.empty() ? "" : e + "\n";
    return s;
  }();
  EXPECT_TRUE(daemon_alive()) << daemon_log();
  // Connections done: their fds are closed (a few may still be closing).
  for (int i = 0; i < 50 && open_fds(pid) > fds_before + 2; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_LE(open_fds(pid), fds_before + 2) << "fds leaked by the requests";
  EXPECT_EQ(deployment_containers("load").size(), 50u);
}

TEST_F(Load, ContainersMadeAndRemovedInRoundsLeaveNothingBehind) {
  const int rounds = env_int("ZLAYER_CHURN_ROUNDS", 2), per_round = env_int("ZLAYER_CHURN_CONTAINERS", 20);
  const int minutes = env_int("ZLAYER_CHURN_MINUTES", 0);  // the long mode: rounds until then
  auto until = std::chrono::steady_clock::now() + std::chrono::minutes(minutes);
  int done = 0;
  for (int r = 0; r < rounds || std::chrono::steady_clock::now() < until; ++r) {
    std::vector<std::string> names;
    for (int i = 0; i < per_round; ++i) {
      names.push_back(fmt::format("churn-{}-{}", r, i));
      auto run = zlayer({"run", "-d", "--name", names.back(), "busybox:1.0", "sleep", "1000"});
      ASSERT_EQ(run.exit_code, 0) << run.err;
    }
    note_containers();
    std::vector<std::string> rm = {"rm", "-f"};
    rm.insert(rm.end(), names.begin(), names.end());
    auto removed = zlayer(rm, {}, 300);
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    done += per_round;
  }
  std::printf("churn: %d containers made and removed\n", done);
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
  expect_no_leaks("after the churn");
}

}  // namespace
}  // namespace zl::testing
