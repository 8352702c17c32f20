// build_resources: CPU, memory and pids limits.
#include "oci/resources.h"

#include <charconv>
#include <cmath>

namespace zl {
namespace {

using json = nlohmann::json;

// "0-2,4" with every CPU below `cpus`.
Status validate_cpuset(const std::string& set, unsigned cpus) {
  auto bad = [&](std::string_view why) { return invalid_argument("invalid cpuset \"{}\": {}", set, why); };
  if (set.empty()) return bad("empty");
  std::string_view rest = set;
  while (!rest.empty()) {
    std::string_view item = rest.substr(0, rest.find(','));
    rest.remove_prefix(std::min(rest.size(), item.size() + 1));
    if (item.empty()) return bad("empty item");
    unsigned lo = 0, hi = 0;
    auto dash = item.find('-');
    std::string_view a = item.substr(0, dash), b = dash == item.npos ? a : item.substr(dash + 1);
    auto [pa, ea] = std::from_chars(a.data(), a.data() + a.size(), lo);
    auto [pb, eb] = std::from_chars(b.data(), b.data() + b.size(), hi);
    if (ea != std::errc() || eb != std::errc() || pa != a.data() + a.size() || pb != b.data() + b.size() ||
        a.empty() || b.empty())
      return bad(fmt::format("\"{}\" is not a CPU number or range", item));
    if (lo > hi) return bad(fmt::format("range \"{}\" goes backwards", item));
    if (hi >= cpus) return bad(fmt::format("CPU {} does not exist: this host has CPUs 0-{}", hi, cpus - 1));
  }
  return {};
}

}  // namespace

Result<json> build_resources(const Resources& r, const HostInfo& host) {
  json out = json::object();
  if (r.cpus) {
    double cpus = *r.cpus;
    if (!(cpus >= 0.01) || cpus > host.cpus)
      return invalid_argument("cpus {} out of range: this host allows 0.01 to {}", cpus, host.cpus);
    out["cpu"]["period"] = kCpuPeriod;
    out["cpu"]["quota"] = static_cast<int64_t>(std::llround(cpus * static_cast<double>(kCpuPeriod)));
  }
  if (r.cpu_shares) {
    if (*r.cpu_shares < 2 || *r.cpu_shares > 262144)
      return invalid_argument("cpu shares {} out of range: use 2 to 262144", *r.cpu_shares);
    out["cpu"]["shares"] = *r.cpu_shares;
  }
  if (r.cpuset_cpus) {
    ZL_TRY(validate_cpuset(*r.cpuset_cpus, host.cpus));
    out["cpu"]["cpus"] = *r.cpuset_cpus;
  }
  if (r.memory) {
    if (*r.memory < kMinMemory)
      return invalid_argument("memory limit {} bytes is too small: the minimum is 6 MiB", *r.memory);
    out["memory"]["limit"] = *r.memory;
  }
  if (r.memory_swap && *r.memory_swap != 0) {
    int64_t swap = *r.memory_swap;
    if (!r.memory) return invalid_argument("memory+swap limit needs a memory limit too");
    if (swap < -1) return invalid_argument("invalid memory+swap limit {}", swap);
    if (swap != -1 && swap < *r.memory)
      return invalid_argument("memory+swap limit {} is below the memory limit {}: it counts both", swap,
                              *r.memory);
    out["memory"]["swap"] = swap;
  }
  if (r.pids_limit && *r.pids_limit < -1) return invalid_argument("invalid pids limit {}", *r.pids_limit);
  if (r.pids_limit && *r.pids_limit > 0) out["pids"]["limit"] = *r.pids_limit;
  return out;
}

}  // namespace zl
