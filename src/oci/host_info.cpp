// HostInfo::probe: capabilities from /proc/self/status, rlimits from getrlimit, kernel and arch
// from uname, cgroup version from statfs.
#include "oci/host_info.h"

#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "oci/capabilities.h"
#include "oci/rlimits.h"

namespace zl {
namespace {

// The "CapBnd:" mask of /proc/self/status.
uint64_t bounding_mask() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("CapBnd:")) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

}  // namespace

KernelVersion parse_kernel_version(const std::string& release) {
  KernelVersion v;
  if (std::sscanf(release.c_str(), "%d.%d", &v.major, &v.minor) != 2) return {};
  return v;
}

HostInfo HostInfo::probe() {
  HostInfo h;
  uint64_t mask = bounding_mask();
  for (const auto& cap : known_capabilities()) {
    if (cap.number < 64 && (mask >> cap.number) & 1) h.capabilities.insert(cap.name);
  }
  for (const auto& name : rlimit_names()) {
    struct rlimit lim {};
    if (::getrlimit(*rlimit_resource(name), &lim) != 0) continue;
    h.rlimit_hard[name] = lim.rlim_max == RLIM_INFINITY ? UINT64_MAX : lim.rlim_max;
  }
  std::ifstream("/proc/self/oom_score_adj") >> h.oom_score_adj;
  long n = ::sysconf(_SC_NPROCESSORS_CONF);
  h.cpus = n > 0 ? static_cast<unsigned>(n) : 1;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.arch = u.machine;
    h.kernel = parse_kernel_version(u.release);
  }
  struct statfs fs {};
  h.cgroup2 = ::statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0) h.hostname = name;
  return h;
}

}  // namespace zl
