// Resource usage of a container read from its cgroup, on cgroup v1 (per-controller
// hierarchies, as on this machine) and cgroup v2 (unified): cpu, memory, pids, block I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"

namespace zl {

struct CgroupStats {
  uint64_t cpu_usage_usec = 0;
  uint64_t memory_usage_bytes = 0;  // as the kernel counts it (page cache included)
  uint64_t memory_limit_bytes = 0;  // host memory when unlimited
  uint64_t pids_current = 0;
  uint64_t pids_limit = 0;  // 0 = unlimited
  uint64_t blkio_read_bytes = 0, blkio_write_bytes = 0;
};

// `cgroups_path` as in config.json's linux.cgroupsPath (e.g. "/zlayer/<id>"), taken from the
// root of each hierarchy (runc's cgroupfs reading of an absolute path). not_found when the
// container's cgroup does not exist (never created, or removed by `runtime delete`).
Result<CgroupStats> read_cgroup_stats(const std::string& cgroups_path);
// How many processes of the cgroup the kernel OOM-killed (v1 memory.oom_control, v2
// memory.events "oom_kill"). not_found when the cgroup is gone.
Result<uint64_t> read_cgroup_oom_kills(const std::string& cgroups_path);
// The cgroup's directories: one per v1 hierarchy, or the one v2 directory (existing or not).
std::vector<fs::path> cgroup_dirs(const std::string& cgroups_path);
// Removes the cgroup's (empty) directories; missing ones are fine. For clean-up after probes.
Status remove_cgroup(const std::string& cgroups_path);
// True when the host has the unified hierarchy only (cgroup v2).
bool cgroup_v2_unified();

}  // namespace zl
