// build_mounts: defaults + host files + user mounts, with docker's override and option rules.
#include "oci/mounts.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "oci/defaults.h"

namespace zl {
namespace {

using json = nlohmann::json;

// Each flag and its opposite: the later one wins.
const std::map<std::string, std::string>& opposites() {
  static const std::map<std::string, std::string> m = [] {
    std::map<std::string, std::string> out;
    for (auto [a, b] : {std::pair{"ro", "rw"},
                        {"exec", "noexec"},
                        {"suid", "nosuid"},
                        {"dev", "nodev"},
                        {"atime", "noatime"},
                        {"diratime", "nodiratime"},
                        {"relatime", "norelatime"},
                        {"strictatime", "nostrictatime"},
                        {"sync", "async"}}) {
      out[a] = b;
      out[b] = a;
    }
    return out;
  }();
  return m;
}

const std::set<std::string>& propagations() {
  static const std::set<std::string> s = {"private", "rprivate", "shared",     "rshared",
                                          "slave",   "rslave",   "unbindable", "runbindable"};
  return s;
}

bool has_any(const std::vector<std::string>& opts, const std::set<std::string>& wanted) {
  return std::any_of(opts.begin(), opts.end(), [&](const std::string& o) { return wanted.contains(o); });
}

size_t depth(const std::string& path) {
  return static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

Result<std::string> clean_target(const std::string& target) {
  if (target.empty() || target[0] != '/')
    return invalid_argument("mount target \"{}\" must be an absolute path", target);
  std::string out = std::filesystem::path(target).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  if (out == "/") return invalid_argument("cannot mount over the container's root \"/\"");
  return out;
}

Result<json> user_mount(const Mount& m, const std::string& target) {
  std::vector<std::string> opts;
  if (m.type == Mount::Type::tmpfs) {
    opts = {"noexec", "nosuid", "nodev", "rprivate"};
    if (m.read_only) opts.push_back("ro");
    opts.insert(opts.end(), m.options.begin(), m.options.end());
    return json{{"destination", target},
                {"type", "tmpfs"},
                {"source", "tmpfs"},
                {"options", merge_mount_options(opts)}};
  }
  const char* what = m.type == Mount::Type::volume ? "volume" : "bind mount";
  if (m.source.empty() || m.source[0] != '/')
    return invalid_argument("{} source \"{}\" for {} must be an absolute host path", what, m.source, target);
  struct stat st {};
  if (::stat(m.source.c_str(), &st) != 0)
    return errno_error(errno, fmt::format("{} source {} for {}", what, m.source, target));
  if (!has_any(m.options, {"bind", "rbind"})) opts.push_back("rbind");
  if (!has_any(m.options, propagations())) opts.push_back("rprivate");
  if (m.read_only) opts.push_back("ro");
  opts.insert(opts.end(), m.options.begin(), m.options.end());
  return json{{"destination", target},
              {"type", "bind"},
              {"source", m.source},
              {"options", merge_mount_options(opts)}};
}

}  // namespace

std::vector<std::string> merge_mount_options(const std::vector<std::string>& options) {
  std::vector<std::string> out;
  for (const auto& o : options) {
    auto opp = opposites().find(o);
    auto eq = o.find('=');
    auto clashes = [&](const std::string& prev) {
      if (prev == o) return true;
      if (opp != opposites().end() && prev == opp->second) return true;
      return eq != std::string::npos && prev.compare(0, eq + 1, o, 0, eq + 1) == 0;
    };
    auto it = std::find_if(out.begin(), out.end(), clashes);
    if (it != out.end()) {
      *it = o;
    } else {
      out.push_back(o);
    }
  }
  return out;
}

Result<json> build_mounts(const std::vector<Mount>& user, const HostFiles& files, const MountContext& ctx) {
  // The user's mounts, then the host files they do not replace: parents first.
  std::vector<std::pair<std::string, json>> extra;
  std::set<std::string> targets;
  for (const auto& m : user) {
    ZL_TRY_ASSIGN(std::string target, clean_target(m.target));
    if (!targets.insert(target).second) return invalid_argument("duplicate mount point \"{}\"", target);
    ZL_TRY_ASSIGN(json mount, user_mount(m, target));
    extra.emplace_back(target, std::move(mount));
  }
  for (auto [path, dest] : {std::pair{&files.hosts, "/etc/hosts"},
                            {&files.hostname, "/etc/hostname"},
                            {&files.resolv_conf, "/etc/resolv.conf"}}) {
    if (path->empty() || targets.contains(dest)) continue;
    Mount m{.type = Mount::Type::bind,
            .source = path->string(),
            .target = dest,
            .read_only = ctx.read_only_rootfs};
    ZL_TRY_ASSIGN(json mount, user_mount(m, dest));
    extra.emplace_back(dest, std::move(mount));
  }
  std::stable_sort(extra.begin(), extra.end(),
                   [](const auto& a, const auto& b) { return depth(a.first) < depth(b.first); });

  json out = json::array();
  bool user_dev = targets.contains("/dev");
  for (json m : default_mounts()) {
    std::string dest = m["destination"];
    if (targets.contains(dest) || (user_dev && dest.starts_with("/dev/"))) continue;
    auto& opts = m["options"];
    bool is_sys = dest == "/sys" || dest == "/sys/fs/cgroup";
    if (ctx.privileged && is_sys) {
      opts.erase(std::remove(opts.begin(), opts.end(), "ro"), opts.end());
    } else if (ctx.read_only_rootfs && dest != "/proc" && dest != "/dev" && !dest.starts_with("/dev/") &&
               std::find(opts.begin(), opts.end(), "ro") == opts.end()) {
      opts.push_back("ro");
    }
    out.push_back(std::move(m));
  }
  for (auto& [dest, m] : extra) out.push_back(std::move(m));
  return out;
}

}  // namespace zl
