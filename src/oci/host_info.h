// What this host and zlayer's own process allow: a container is never asked to get more
// (capabilities, rlimits, oom score) than zlayer itself holds. Probed once, passed in.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace zl {

struct KernelVersion {
  int major = 0, minor = 0;
  friend auto operator<=>(const KernelVersion&, const KernelVersion&) = default;
};

struct HostInfo {
  std::set<std::string> capabilities;           // zlayer's bounding set, "CAP_*"
  std::map<std::string, uint64_t> rlimit_hard;  // "nofile" -> hard limit (UINT64_MAX: unlimited)
  int oom_score_adj = 0;                        // zlayer's own /proc/self/oom_score_adj
  unsigned cpus = 1;                            // configured CPUs
  std::string arch = "x86_64";                  // uname -m
  KernelVersion kernel;                         // uname -r, major.minor
  bool cgroup2 = false;                         // /sys/fs/cgroup is the unified hierarchy
  std::string hostname;                         // for containers on the host network

  // Reads all of the above from the running process and host.
  static HostInfo probe();
};

// "6.1.0-18-amd64" -> {6, 1}; {0, 0} when unparsable.
KernelVersion parse_kernel_version(const std::string& release);

}  // namespace zl
