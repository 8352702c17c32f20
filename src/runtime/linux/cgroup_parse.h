// Pure parsers for cgroup files (v1 and v2 formats) and /proc/self/mountinfo, apart from the
// file reading so that they can be tested on canned text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/fs.h"

namespace zl {

// Where the cgroup hierarchies are mounted.
struct CgroupMounts {
  std::map<std::string, fs::path> v1;  // controller -> mount point ("memory" -> /sys/fs/cgroup/memory)
  std::optional<fs::path> unified;     // the cgroup2 mount, if any (may hold no controllers: hybrid)
};
CgroupMounts parse_cgroup_mounts(std::string_view mountinfo);

// "key value" lines: cpu.stat, memory.events, memory.oom_control, memory.stat. Bad lines are skipped.
std::map<std::string, uint64_t> parse_flat_keyed(std::string_view text);

// A limit file: a number, or "max" (v2) = unlimited (nullopt). invalid_argument otherwise.
Result<std::optional<uint64_t>> parse_limit(std::string_view text);

struct IoBytes {
  uint64_t read = 0, write = 0;
};
// v1 blkio.throttle.io_service_bytes: "8:0 Read 4096" lines, summed over devices.
IoBytes parse_blkio_service_bytes(std::string_view text);
// v2 io.stat: "8:0 rbytes=4096 wbytes=0 rios=1 ..." lines, summed over devices.
IoBytes parse_io_stat(std::string_view text);

// "MemTotal:  16314640 kB" from /proc/meminfo, in bytes; 0 when absent.
uint64_t parse_meminfo_total(std::string_view meminfo);

}  // namespace zl
