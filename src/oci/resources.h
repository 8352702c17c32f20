// cgroup limits for a container (--cpus, --cpu-shares, --cpuset-cpus, --memory, --memory-swap,
// --pids-limit) as linux.resources, validated the way docker does.
#pragma once

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "oci/host_info.h"
#include "runtime/container_spec.h"

namespace zl {

inline constexpr uint64_t kCpuPeriod = 100000;          // CFS period, µs
inline constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // docker's smallest memory limit

// linux.resources without "devices":
//  cpus         -> cpu.quota = cpus * 100000, cpu.period = 100000 (0.01 .. host CPUs)
//  cpu_shares   -> cpu.shares (2 .. 262144)
//  cpuset_cpus  -> cpu.cpus ("0-2,4"; CPUs the host has)
//  memory       -> memory.limit (>= 6 MiB)
//  memory_swap  -> memory.swap (memory + swap; -1 unlimited; needs memory, >= memory)
//  pids_limit   -> pids.limit (> 0; 0 or -1: unlimited)
// Out of range -> invalid_argument.
Result<nlohmann::json> build_resources(const Resources& r, const HostInfo& host);

}  // namespace zl
