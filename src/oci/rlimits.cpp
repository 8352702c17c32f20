// build_rlimits: defaults + user ulimits, never above the host process's hard limits.
#include "oci/rlimits.h"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace zl {
namespace {

using json = nlohmann::json;

const std::map<std::string, int>& table() {
  static const std::map<std::string, int> t = {
      {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  return t;
}

std::string lower_name(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s.starts_with("rlimit_")) s.erase(0, 7);
  return s;
}

std::string describe(uint64_t v) {
  return v == UINT64_MAX ? "unlimited" : std::to_string(v);
}

}  // namespace

std::optional<int> rlimit_resource(std::string_view name) {
  auto it = table().find(lower_name(name));
  if (it == table().end()) return std::nullopt;
  return it->second;
}

const std::vector<std::string>& rlimit_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, _] : table()) out.push_back(name);
    return out;
  }();
  return names;
}

Result<json> build_rlimits(const std::vector<Ulimit>& ulimits, const HostInfo& host) {
  auto host_hard = [&](const std::string& name) {
    auto it = host.rlimit_hard.find(name);
    return it == host.rlimit_hard.end() ? UINT64_MAX : it->second;
  };
  std::map<std::string, std::pair<uint64_t, uint64_t>> limits;  // name -> soft, hard
  uint64_t nofile = std::min(kDefaultNofile, host_hard("nofile"));
  limits["nofile"] = {nofile, nofile};

  for (const auto& u : ulimits) {
    std::string name = lower_name(u.name);
    if (!table().contains(name)) return invalid_argument("unknown ulimit \"{}\"", u.name);
    if (u.soft > u.hard)
      return invalid_argument("ulimit {}: soft limit {} is above the hard limit {}", name, u.soft, u.hard);
    if (u.hard > host_hard(name))
      return invalid_argument("ulimit {}: hard limit {} is above this host's maximum of {}", name,
                              describe(u.hard), describe(host_hard(name)));
    limits[name] = {u.soft, u.hard};
  }

  json out = json::array();
  for (const auto& [name, lim] : limits) {
    std::string type = "RLIMIT_" + name;
    std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::toupper(c); });
    out.push_back({{"type", type}, {"soft", lim.first}, {"hard", lim.second}});
  }
  return out;
}

}  // namespace zl
