// Sysctl validation by namespace, and docker's network defaults.
#include "oci/sysctls.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace zl {

Status validate_sysctl(const std::string& key, bool host_network) {
  static const std::set<std::string> ipc = {"kernel.msgmax", "kernel.msgmnb",         "kernel.msgmni",
                                            "kernel.sem",    "kernel.shmall",         "kernel.shmmax",
                                            "kernel.shmmni", "kernel.shm_rmid_forced"};
  bool well_formed = !key.empty() && key.front() != '.' && key.back() != '.' &&
                     key.find("..") == std::string::npos &&
                     std::all_of(key.begin(), key.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '/';
                     });
  if (!well_formed) return invalid_argument("invalid sysctl name \"{}\"", key);
  if (ipc.contains(key) || key.starts_with("fs.mqueue.")) return {};
  if (key.starts_with("net.")) {
    if (host_network)
      return invalid_argument(
          "sysctl \"{}\" cannot be set on the host network: the container shares the host's", key);
    return {};
  }
  return invalid_argument(
      "sysctl \"{}\" is not namespaced: only net.*, kernel.msg*/shm*/sem and fs.mqueue.* can be set for a "
      "container",
      key);
}

Result<std::map<std::string, std::string>> build_sysctls(const std::map<std::string, std::string>& user,
                                                         bool host_network) {
  std::map<std::string, std::string> out;
  if (!host_network) {
    auto exists = [](const char* path) {
      std::error_code ec;
      return std::filesystem::exists(path, ec);
    };
    if (exists("/proc/sys/net/ipv4/ping_group_range")) out["net.ipv4.ping_group_range"] = "0 2147483647";
    if (exists("/proc/sys/net/ipv4/ip_unprivileged_port_start"))
      out["net.ipv4.ip_unprivileged_port_start"] = "0";
  }
  for (const auto& [key, value] : user) {
    ZL_TRY(validate_sysctl(key, host_network));
    out[key] = value;
  }
  return out;
}

}  // namespace zl
