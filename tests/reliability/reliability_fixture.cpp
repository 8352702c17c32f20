#include "reliability/reliability_fixture.h"

#include <cstdlib>

namespace zl::testing {

void ReliabilityTest::SetUp() {
  auto st = net_.acquire();
  ASSERT_TRUE(st) << st.error().message;
  ContainerCliTest::SetUp();  // no daemon yet
}

void ReliabilityTest::TearDown() {
  if (daemon_ && !daemon_->running()) daemon_.reset();
  DaemonTest::TearDown();
  net_.release();
}

void ReliabilityTest::start_daemon_armed(const std::string& failpoints) {
  ::setenv("ZLAYER_FAILPOINTS", failpoints.c_str(), 1);
  start_daemon();
  ::unsetenv("ZLAYER_FAILPOINTS");
}

bool ReliabilityTest::reap_dead_daemon() {
  if (!daemon_ || daemon_->running()) return false;
  daemon_.reset();  // reaps it
  return true;
}

std::string ReliabilityTest::daemon_log() const {
  return read_file(dir_->path() / "daemon.log").value_or("");
}

void ReliabilityTest::note_containers() {
  for (const auto& id : container_dirs(root_)) seen_.insert(id);
}

nlohmann::json ReliabilityTest::deployment_containers(const std::string& deployment) {
  note_containers();
  nlohmann::json out = nlohmann::json::array();
  auto a = api("GET", "/v1/containers");
  if (a.body.is_array())
    for (const auto& c : a.body)
      if (c["labels"].value("zlayer.deployment", "") == deployment) out.push_back(c);
  return out;
}

void ReliabilityTest::expect_no_leaks(const std::string& when) {
  note_containers();
  auto leaks = settled_leaks(leak_scope());
  std::string list;
  for (const auto& l : leaks) list += "\n  " + l;
  EXPECT_TRUE(leaks.empty()) << "left behind " << when << ":" << list;
}

void ReliabilityTest::expect_store_verifies() {
  auto v = zlayer({"image", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

std::string ReliabilityTest::sleepers(const std::string& deployment, int replicas, const std::string& extra) {
  return fmt::format(R"(version: v1
deployment: {}
services:
  app:
    image: {{name: "busybox:1.0", pull_policy: never}}
    command: {{entrypoint: [sleep, "1000"]}}
    stop_grace_period: 1s
    scale: {{mode: fixed, replicas: {}}}
{})",
                     deployment, replicas, extra);
}

}  // namespace zl::testing
