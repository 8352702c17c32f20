// Capability names, docker's default set and the add/drop/privileged rules.
#include "oci/capabilities.h"

#include <algorithm>
#include <cctype>

namespace zl {

const std::vector<Capability>& known_capabilities() {
  static const std::vector<Capability> caps = [] {
    const char* names[] = {
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    };
    std::vector<Capability> out;
    for (int i = 0; i < static_cast<int>(std::size(names)); ++i)
      out.push_back({std::string("CAP_") + names[i], i});
    return out;
  }();
  return caps;
}

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
      "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
      "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
      "CAP_KILL",    "CAP_AUDIT_WRITE",
  };
  return caps;
}

Result<std::string> normalize_capability(std::string_view name) {
  std::string up(name);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up == "ALL") return up;
  if (!up.starts_with("CAP_")) up.insert(0, "CAP_");
  const auto& known = known_capabilities();
  if (std::none_of(known.begin(), known.end(), [&](const Capability& c) { return c.name == up; }))
    return invalid_argument("unknown capability \"{}\"", name);
  return up;
}

namespace {

Result<std::set<std::string>> normalize_all(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const auto& n : names) {
    ZL_TRY_ASSIGN(auto norm, normalize_capability(n));
    out.insert(std::move(norm));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> resolve_capabilities(const std::vector<std::string>& add,
                                                      const std::vector<std::string>& drop, bool privileged,
                                                      const std::set<std::string>& host) {
  ZL_TRY_ASSIGN(auto adds, normalize_all(add));
  ZL_TRY_ASSIGN(auto drops, normalize_all(drop));

  std::set<std::string> want;
  if (privileged || adds.contains("ALL")) {
    want = host;
    if (!privileged)
      for (const auto& d : drops) want.erase(d);
  } else {
    if (!drops.contains("ALL")) {
      want.insert(default_capabilities().begin(), default_capabilities().end());
      for (const auto& d : drops) want.erase(d);
    }
    for (const auto& a : adds) {
      if (!host.contains(a))
        return permission_denied("cannot add capability {}: zlayer itself does not hold it", a);
      want.insert(a);
    }
  }

  std::vector<std::string> out;  // kernel order, and only what the host can grant
  for (const auto& cap : known_capabilities())
    if (want.contains(cap.name) && host.contains(cap.name)) out.push_back(cap.name);
  return out;
}

}  // namespace zl
