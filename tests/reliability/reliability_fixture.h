// Test-only: a daemon on a network slot of its own, started by the test (with failpoints armed
// or not), killed or crashed by it, and the checks that what it left is accounted for.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "fixtures/daemon.h"
#include "reliability/leaks.h"

namespace zl::testing {

class ReliabilityTest : public DaemonTest {
 protected:
  // The root with busybox loaded and a network slot; no daemon yet (start_daemon()).
  void SetUp() override;
  void TearDown() override;

  // Starts the daemon with ZLAYER_FAILPOINTS=`failpoints` in its environment (only its own).
  void start_daemon_armed(const std::string& failpoints);
  bool daemon_alive() const { return daemon_ && daemon_->running(); }
  // Reaps a daemon that died by itself; false (and the daemon left alone) while it runs.
  bool reap_dead_daemon();
  std::string daemon_log() const;
  // Notes the containers of the root now (cgroups of those seen are checked when they are gone).
  void note_containers();
  // Containers labelled with the deployment, by the REST API.
  nlohmann::json deployment_containers(const std::string& deployment);
  LeakScope leak_scope() const {
    return LeakScope{.root = root_, .bridge = net_.prefix() + "0", .seen_ids = seen_};
  }
  // Fails the test listing what is left behind (after waiting for what leaves asynchronously).
  void expect_no_leaks(const std::string& when);
  // `zlayer image verify` passes.
  void expect_store_verifies();
  // A deployment of service "app": `replicas` busybox sleepers with a 1 s grace; `extra`: more
  // lines of the service, each indented by 4.
  static std::string sleepers(const std::string& deployment, int replicas, const std::string& extra = "");

  std::set<std::string> seen_;
};

}  // namespace zl::testing
