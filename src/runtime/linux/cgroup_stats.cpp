// Finds a container's cgroup directories from /proc/self/mountinfo and reads its usage files,
// in the v1 (cpuacct, memory, pids, blkio) or the v2 (cpu.stat, memory.*, pids.*, io.stat) layout.
#include "runtime/linux/cgroup_stats.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "runtime/linux/cgroup_parse.h"

namespace zl {

namespace {

CgroupMounts host_mounts() {
  auto text = read_file("/proc/self/mountinfo");
  return text ? parse_cgroup_mounts(*text) : CgroupMounts{};
}

// "/zlayer/x" or "zlayer/x" -> "zlayer/x", to append to a mount point.
Result<fs::path> relative_cgroup(const std::string& cgroups_path) {
  if (cgroups_path.find(':') != std::string::npos)
    return unsupported("cgroup path \"{}\": systemd cgroup paths are not supported", cgroups_path);
  fs::path rel = fs::path(cgroups_path).relative_path().lexically_normal();
  if (rel.empty() || rel == "." || *rel.begin() == "..")
    return invalid_argument("cgroup path \"{}\" does not name a cgroup", cgroups_path);
  return rel;
}

std::optional<std::string> read_optional(const fs::path& p) {
  auto r = read_file(p);
  if (!r) return std::nullopt;
  return std::move(*r);
}

uint64_t read_u64(const fs::path& p) {
  auto t = read_optional(p);
  if (!t) return 0;
  auto v = parse_limit(*t);
  return v && *v ? **v : 0;
}

uint64_t host_memory() {
  auto t = read_optional("/proc/meminfo");
  return t ? parse_meminfo_total(*t) : 0;
}

// A memory limit as reported: unlimited (or above the host's memory) is the host's memory.
uint64_t effective_limit(std::optional<uint64_t> limit) {
  uint64_t host = host_memory();
  if (!limit || (host && *limit > host)) return host;
  return *limit;
}

uint64_t pids_limit(const fs::path& file) {
  auto t = read_optional(file);
  if (!t) return 0;
  auto v = parse_limit(*t);
  return v && *v ? **v : 0;
}

Result<CgroupStats> read_v2(const fs::path& dir) {
  if (::access(dir.c_str(), F_OK) != 0) return not_found("cgroup {} does not exist", dir.string());
  CgroupStats s;
  if (auto t = read_optional(dir / "cpu.stat")) s.cpu_usage_usec = parse_flat_keyed(*t)["usage_usec"];
  s.memory_usage_bytes = read_u64(dir / "memory.current");
  if (auto t = read_optional(dir / "memory.max")) {
    auto v = parse_limit(*t);
    s.memory_limit_bytes = effective_limit(v ? *v : std::nullopt);
  } else {
    s.memory_limit_bytes = host_memory();
  }
  s.pids_current = read_u64(dir / "pids.current");
  s.pids_limit = pids_limit(dir / "pids.max");
  if (auto t = read_optional(dir / "io.stat")) {
    auto io = parse_io_stat(*t);
    s.blkio_read_bytes = io.read;
    s.blkio_write_bytes = io.write;
  }
  return s;
}

Result<CgroupStats> read_v1(const CgroupMounts& m, const fs::path& rel) {
  auto dir = [&](const char* ctrl) -> std::optional<fs::path> {
    auto it = m.v1.find(ctrl);
    if (it == m.v1.end()) return std::nullopt;
    return it->second / rel;
  };
  auto mem = dir("memory");
  if (!mem || ::access(mem->c_str(), F_OK) != 0)
    return not_found("memory cgroup of {} does not exist", "/" + rel.string());
  CgroupStats s;
  if (auto d = dir("cpuacct")) s.cpu_usage_usec = read_u64(*d / "cpuacct.usage") / 1000;
  s.memory_usage_bytes = read_u64(*mem / "memory.usage_in_bytes");
  auto limit = read_optional(*mem / "memory.limit_in_bytes");
  auto parsed = limit ? parse_limit(*limit) : Result<std::optional<uint64_t>>(std::nullopt);
  s.memory_limit_bytes = effective_limit(parsed ? *parsed : std::nullopt);
  if (auto d = dir("pids")) {
    s.pids_current = read_u64(*d / "pids.current");
    s.pids_limit = pids_limit(*d / "pids.max");
  }
  if (auto d = dir("blkio")) {
    auto t = read_optional(*d / "blkio.throttle.io_service_bytes_recursive");
    if (!t) t = read_optional(*d / "blkio.throttle.io_service_bytes");
    if (t) {
      auto io = parse_blkio_service_bytes(*t);
      s.blkio_read_bytes = io.read;
      s.blkio_write_bytes = io.write;
    }
  }
  return s;
}

}  // namespace

bool cgroup_v2_unified() {
  struct statfs sfs {};
  return ::statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

Result<CgroupStats> read_cgroup_stats(const std::string& cgroups_path) {
  ZL_TRY_ASSIGN(fs::path rel, relative_cgroup(cgroups_path));
  if (cgroup_v2_unified()) return read_v2(fs::path("/sys/fs/cgroup") / rel);
  return read_v1(host_mounts(), rel);
}

Result<uint64_t> read_cgroup_oom_kills(const std::string& cgroups_path) {
  ZL_TRY_ASSIGN(fs::path rel, relative_cgroup(cgroups_path));
  fs::path file;
  if (cgroup_v2_unified()) {
    file = fs::path("/sys/fs/cgroup") / rel / "memory.events";
  } else {
    auto mounts = host_mounts();
    auto it = mounts.v1.find("memory");
    if (it == mounts.v1.end()) return not_found("no memory cgroup hierarchy is mounted");
    file = it->second / rel / "memory.oom_control";
  }
  auto text = read_file(file);
  if (!text) return tl::unexpected(text.error());
  return parse_flat_keyed(*text)["oom_kill"];
}

std::vector<fs::path> cgroup_dirs(const std::string& cgroups_path) {
  auto rel = relative_cgroup(cgroups_path);
  if (!rel) return {};
  if (cgroup_v2_unified()) return {fs::path("/sys/fs/cgroup") / *rel};
  auto mounts = host_mounts();
  std::vector<fs::path> dirs;
  auto add = [&](const fs::path& d) {
    if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
  };
  for (const auto& [ctrl, mount] : mounts.v1) add(mount / *rel);
  if (mounts.unified) add(*mounts.unified / *rel);  // hybrid: runc makes one there too
  return dirs;
}

Status remove_cgroup(const std::string& cgroups_path) {
  for (const auto& d : cgroup_dirs(cgroups_path)) {
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT)
      return errno_error(errno, fmt::format("remove cgroup {}", d.string()));
  }
  return {};
}

}  // namespace zl
