#include "reliability/leaks.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fixtures/net_slot.h"

namespace zl::testing {
namespace {

bool is_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_ipv4(const std::string& s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

// /proc/self/mounts escapes space, tab, newline and backslash as octal.
std::string unescape_mount_path(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  return out;
}

void check_mounts(const fs::path& root, const std::set<std::string>& live, std::vector<std::string>& out) {
  std::ifstream in("/proc/self/mounts");
  std::string prefix = root.string() + "/";
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string dev, where;
    f >> dev >> where;
    where = unescape_mount_path(where);
    if (!where.starts_with(prefix)) continue;
    fs::path p(where);
    std::string rel = where.substr(prefix.size());
    bool ok = false;
    for (const auto& id : live)
      ok |= rel == "containers/" + id + "/bundle/rootfs" || rel == "netns/" + id;
    if (!ok) out.push_back("mount left at " + where);
  }
}

void check_netns(const fs::path& root, const std::set<std::string>& live, std::vector<std::string>& out) {
  fs::path dir = root / "netns";
  for (const auto& f : entries(dir)) {
    bool record = f.ends_with(".json");
    std::string id = record ? f.substr(0, f.size() - 5) : f;
    if (!is_id(id)) continue;
    if (!live.count(id))
      out.push_back(fmt::format("network {} of removed container {}", record ? "record" : "namespace", id));
    else if (!record && !fs::exists(dir / (id + ".json")))
      out.push_back("network namespace without a record: " + id);
  }
}

// host-local's reservations: <root>/networks/<net>/ipam/<net>/<address>, "zlayer-<id>\n<ifname>".
// And the network's DNS records: every address must be a live container's.
void check_addresses(const fs::path& root, const std::set<std::string>& live, std::vector<std::string>& out) {
  std::set<std::string> live_addresses;
  for (const auto& net : entries(root / "networks")) {
    fs::path ipam = root / "networks" / net / "ipam" / net;
    for (const auto& f : entries(ipam)) {
      if (!is_ipv4(f)) continue;
      auto text = read_file(ipam / f).value_or("");
      std::string owner = text.substr(0, text.find_first_of("\r\n"));
      std::string id = owner.starts_with("zlayer-") ? owner.substr(7) : owner;
      if (!live.count(id))
        out.push_back(fmt::format("address {} on network {} reserved for removed container {}", f, net,
                                  id.substr(0, 12)));
      else
        live_addresses.insert(f);
    }
  }
  for (const auto& net : entries(root / "networks")) {
    auto text = read_file(root / "networks" / net / "dns.json");
    if (!text) continue;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
      out.push_back("dns.json of network " + net + " is not JSON");
      continue;
    }
    std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& v) {
      if (v.is_string()) {
        std::string a = v.get<std::string>();
        if (is_ipv4(a) && !live_addresses.count(a))
          out.push_back(fmt::format("DNS record on network {} for address {} that no container holds", net, a));
      } else if (v.is_structured()) {
        for (const auto& x : v) walk(x);
      }
    };
    walk(j);
  }
}

void check_cgroups(const std::set<std::string>& seen, const std::set<std::string>& live,
                   std::vector<std::string>& out) {
  std::error_code ec;
  for (const auto& id : seen) {
    if (live.count(id)) continue;
    for (const auto& controller : entries("/sys/fs/cgroup")) {
      for (const fs::path& p : {fs::path("/sys/fs/cgroup") / controller / "zlayer" / id,
                               fs::path("/sys/fs/cgroup") / "zlayer" / id}) {
        if (fs::exists(p, ec)) out.push_back("cgroup left: " + p.string());
      }
    }
  }
}

// conmon processes of this root (their bundle path is under it): one per live container at most.
void check_monitors(const fs::path& root, const std::set<std::string>& live, std::vector<std::string>& out) {
  std::map<std::string, int> per_id;
  for (const auto& pid : entries("/proc")) {
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cmd = read_file(fs::path("/proc") / pid / "cmdline");
    if (!cmd || cmd->empty()) continue;
    std::vector<std::string> args;
    std::string cur;
    for (char c : *cmd) {
      if (c == '\0') {
        args.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (args.empty() || !args[0].ends_with("conmon")) continue;
    std::string id;
    bool ours = false;
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "-c") id = args[i + 1];
      if (args[i] == "-b" && args[i + 1].starts_with(root.string() + "/")) ours = true;
    }
    if (!ours) continue;
    if (!live.count(id)) out.push_back(fmt::format("conmon (pid {}) of removed container {}", pid, id.substr(0, 12)));
    if (++per_id[id] == 2) out.push_back("two monitors for container " + id.substr(0, 12));
  }
}

void check_dirs(const fs::path& root, const std::set<std::string>& live, std::vector<std::string>& out) {
  fs::path dir = root / "containers";
  for (const auto& f : entries(dir)) {
    if (f.starts_with(".removing-")) out.push_back("half-removed container directory " + f);
    else if (is_id(f) && !live.count(f)) out.push_back("container directory without a record: " + f);
  }
  std::error_code ec;
  for (const auto& n : entries(dir / "names")) {
    std::string target = fs::read_symlink(dir / "names" / n, ec).string();
    if (!live.count(target)) out.push_back(fmt::format("container name {} held for removed container {}", n, target));
  }
  for (const auto& v : entries(root / "volumes"))
    if (fs::exists(root / "volumes" / v / "copying", ec)) out.push_back("volume " + v + " half copied up");
}

void check_scratch(const fs::path& root, std::vector<std::string>& out) {
  for (const fs::path& dir : {root / "ingest", root / "layers" / "tmp"})
    for (const auto& f : entries(dir))
      if (!f.starts_with(".")) out.push_back("store scratch left: " + (dir / f).string());
}

void check_veths(const std::string& bridge, const fs::path& root, const std::set<std::string>& live,
                 std::vector<std::string>& out) {
  if (bridge.empty()) return;
  size_t attached = 0;
  for (const auto& id : live) {
    auto text = read_file(root / "netns" / (id + ".json"));
    if (!text) continue;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.contains("endpoints")) continue;
    for (const auto& ep : j["endpoints"])
      if (ep.value("network", "") == "zlayer") ++attached;
  }
  auto [code, text] = host_command({"ip", "-o", "link", "show", "master", bridge});
  if (code != 0) return;  // no bridge: nothing attached to it
  size_t ports = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) ++ports;
  if (ports != attached)
    out.push_back(fmt::format("{} interface(s) on bridge {} for {} attached container(s)", ports, bridge, attached));
}

}  // namespace

std::set<std::string> container_dirs(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& f : entries(root / "containers"))
    if (is_id(f)) out.insert(f);
  return out;
}

std::set<std::string> live_containers(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& id : container_dirs(root))
    if (fs::exists(root / "containers" / id / "container.json", ec)) out.insert(id);
  return out;
}

std::vector<std::string> find_leaks(const LeakScope& s) {
  std::vector<std::string> out;
  auto live = live_containers(s.root);
  check_mounts(s.root, live, out);
  check_netns(s.root, live, out);
  check_addresses(s.root, live, out);
  check_cgroups(s.seen_ids, live, out);
  check_monitors(s.root, live, out);
  check_dirs(s.root, live, out);
  check_scratch(s.root, out);
  check_veths(s.bridge, s.root, live, out);
  return out;
}

std::vector<std::string> settled_leaks(const LeakScope& scope, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (true) {
    auto leaks = find_leaks(scope);
    if (leaks.empty() || std::chrono::steady_clock::now() >= deadline) return leaks;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace zl::testing
