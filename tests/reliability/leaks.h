// Test-only: what a zlayer root left behind that no container owns: mounts, network namespaces
// and records, address reservations, DNS records, cgroups, veths, monitors (conmon), container
// directories, names, half-copied volumes and store scratch. Used after crashes and faults.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/fs.h"

namespace zl::testing {

struct LeakScope {
  fs::path root;                  // the zlayer root
  std::string bridge;             // the default network's bridge; "" skips the veth count
  std::set<std::string> seen_ids; // every container id the test saw at some time (for cgroups)
};

// The containers of the root with a record (container.json).
std::set<std::string> live_containers(const fs::path& root);
// Every 64-hex directory under <root>/containers (recorded or not).
std::set<std::string> container_dirs(const fs::path& root);

// One line per thing left behind; empty when the root is clean.
std::vector<std::string> find_leaks(const LeakScope& scope);
// find_leaks until it is empty or `timeout_s` passed (veths and conmons leave asynchronously).
std::vector<std::string> settled_leaks(const LeakScope& scope, int timeout_s = 15);

}  // namespace zl::testing
