// Device nodes from host paths (stat for type and numbers) and device cgroup rules.
#include "oci/devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>

#include "oci/defaults.h"

namespace zl {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// The node at host_path as an OCI device at container_path; nullopt when it is not a device.
std::optional<json> device_at(const fs::path& host_path, const std::string& container_path) {
  struct stat st {};
  if (::stat(host_path.c_str(), &st) != 0) return std::nullopt;
  const char* type = S_ISCHR(st.st_mode) ? "c" : S_ISBLK(st.st_mode) ? "b" : nullptr;
  if (type == nullptr) return std::nullopt;
  return json{{"path", container_path},
              {"type", type},
              {"major", static_cast<int64_t>(major(st.st_rdev))},
              {"minor", static_cast<int64_t>(minor(st.st_rdev))},
              {"fileMode", st.st_mode & 0777},
              {"uid", st.st_uid},
              {"gid", st.st_gid}};
}

json allow_rule(const json& device, const std::string& access) {
  return json{{"allow", true},
              {"type", device["type"]},
              {"major", device["major"]},
              {"minor", device["minor"]},
              {"access", access}};
}

}  // namespace

Result<DeviceSet> devices_from_mapping(const DeviceMapping& mapping) {
  const std::string& host = mapping.host_path;
  std::string target = mapping.container_path.empty() ? host : mapping.container_path;
  if (host.empty() || host[0] != '/')
    return invalid_argument("device \"{}\" must be an absolute host path", host);
  if (target[0] != '/')
    return invalid_argument("device path \"{}\" in the container must be absolute", target);
  const std::string& perms = mapping.permissions;
  if (perms.empty() || perms.find_first_not_of("rwm") != std::string::npos)
    return invalid_argument("invalid permissions \"{}\" for device {}: use a combination of r, w and m",
                            perms, host);

  DeviceSet out;
  std::error_code ec;
  if (auto dev = device_at(host, target)) {
    out.rules.push_back(allow_rule(*dev, perms));
    out.devices.push_back(std::move(*dev));
    return out;
  }
  if (!fs::exists(host, ec)) return not_found("device {} does not exist on this host", host);
  if (fs::is_directory(host, ec)) {
    fs::path root = fs::canonical(host, ec);
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string inside = target + "/" + fs::relative(it->path(), root).string();
      if (auto dev = device_at(it->path(), inside)) {
        out.rules.push_back(allow_rule(*dev, perms));
        out.devices.push_back(std::move(*dev));
      }
    }
  }
  if (out.devices.empty())
    return invalid_argument("{} is not a device (nor a directory holding devices)", host);
  return out;
}

Result<json> host_devices(const fs::path& host_dev) {
  static const std::set<std::string> skip = {"pts",     "shm",  "mqueue",      "fd",
                                             "console", ".lxc", ".lxd-mounts", ".udev"};
  json out = json::array();
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(host_dev, ec);
  if (ec) return errno_error(ec.value(), fmt::format("list {}", host_dev.string()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return errno_error(ec.value(), fmt::format("list {}", host_dev.string()));
    std::string name = it->path().filename();
    if (it.depth() == 0 && skip.contains(name)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec)) continue;  // /dev/core, /dev/stdin ...: not nodes of their own
    if (auto dev = device_at(it->path(), it->path().string())) out.push_back(std::move(*dev));
  }
  return out;
}

Result<DeviceSet> build_devices(const std::vector<DeviceMapping>& mappings, bool privileged) {
  DeviceSet out;
  if (privileged) {
    ZL_TRY_ASSIGN(out.devices, host_devices());
    out.rules = json::array({json{{"allow", true}, {"access", "rwm"}}});
    for (const auto& m : mappings) {  // host devices are all there already; only renames add one
      if (m.container_path.empty() || m.container_path == m.host_path) continue;
      ZL_TRY_ASSIGN(DeviceSet set, devices_from_mapping(m));
      for (auto& d : set.devices) out.devices.push_back(std::move(d));
    }
    return out;
  }
  out.rules = default_device_rules();
  for (const auto& m : mappings) {
    ZL_TRY_ASSIGN(DeviceSet set, devices_from_mapping(m));
    for (auto& d : set.devices) out.devices.push_back(std::move(d));
    for (auto& r : set.rules) out.rules.push_back(std::move(r));
  }
  return out;
}

}  // namespace zl
