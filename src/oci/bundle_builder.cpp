// build_runtime_config: resolves each part with its own module and assembles config.json.
#include "oci/bundle_builder.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "common/fs.h"
#include "oci/capabilities.h"
#include "oci/defaults.h"
#include "oci/devices.h"
#include "oci/image_config.h"
#include "oci/process.h"
#include "oci/resources.h"
#include "oci/rlimits.h"
#include "oci/seccomp.h"
#include "oci/signals.h"
#include "oci/sysctls.h"
#include "oci/user.h"

namespace zl {
namespace {

using json = nlohmann::json;

Status validate_hostname(const std::string& name) {
  bool ok = name.size() <= 64 && name.front() != '-' && name.front() != '.' &&
            std::all_of(name.begin(), name.end(),
                        [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
  if (!ok)
    return invalid_argument("invalid hostname \"{}\": use up to 64 letters, digits, '-' and '.'", name);
  return {};
}

Result<std::string> hostname_for(const BundleInputs& in, const HostInfo& host) {
  std::string name = !in.hostname.empty() ? in.hostname : in.spec.hostname;
  if (name.empty()) return default_hostname(in.container_id, in.network, host);
  ZL_TRY(validate_hostname(name));
  return name;
}

json namespaces_for(const NetworkNamespace& net, const std::map<std::string, std::string>& joins,
                    const HostInfo& host) {
  json out = json::array({{{"type", "pid"}}, {{"type", "ipc"}}, {{"type", "uts"}}, {{"type", "mount"}}});
  for (auto& ns : out)
    if (auto j = joins.find(ns["type"].get<std::string>()); j != joins.end()) ns["path"] = j->second;
  if (net.mode == NetworkNamespace::Mode::create) out.push_back({{"type", "network"}});
  if (net.mode == NetworkNamespace::Mode::join) out.push_back({{"type", "network"}, {"path", net.path}});
  if (host.cgroup2) out.push_back({{"type", "cgroup"}});
  return out;
}

Status validate_inputs(const BundleInputs& in) {
  if (in.container_id.empty()) return invalid_argument("container id is empty");
  if (!in.rootfs.is_absolute())
    return invalid_argument("rootfs \"{}\" must be an absolute path", in.rootfs.string());
  std::error_code ec;
  if (!fs::is_directory(in.rootfs, ec)) return not_found("rootfs {} is not a directory", in.rootfs.string());
  if (in.network.mode == NetworkNamespace::Mode::join &&
      (in.network.path.empty() || in.network.path[0] != '/'))
    return invalid_argument("network namespace path \"{}\" must be absolute", in.network.path);
  return {};
}

}  // namespace

std::string default_hostname(const std::string& container_id, const NetworkNamespace& network,
                             const HostInfo& host) {
  if (network.mode == NetworkNamespace::Mode::host) return host.hostname;
  return container_id.substr(0, 12);
}

Result<json> build_runtime_config(const BundleInputs& in) {
  ZL_TRY(validate_inputs(in));
  const HostInfo host = in.host ? *in.host : HostInfo::probe();
  const ContainerSpec& spec = in.spec;
  const bool host_network = in.network.mode == NetworkNamespace::Mode::host;
  ZL_TRY_ASSIGN(ImageRunConfig image, parse_image_config(in.image_config));

  // Process.
  ZL_TRY_ASSIGN(auto caps,
                resolve_capabilities(spec.cap_add, spec.cap_drop, spec.privileged, host.capabilities));
  ZL_TRY_ASSIGN(ResolvedUser user, resolve_user(in.rootfs, spec.user.empty() ? image.user : spec.user));
  ZL_TRY_ASSIGN(std::string hostname, hostname_for(in, host));
  ZL_TRY_ASSIGN(auto args, resolve_args(spec, image));
  EnvDefaults env_defaults{.hostname = hostname, .tty = spec.tty, .home = user.home};
  ZL_TRY_ASSIGN(auto env, merge_env(image.env, spec.env, env_defaults));
  ZL_TRY_ASSIGN(std::string cwd, resolve_workdir(spec, image));
  ZL_TRY_ASSIGN(int stop_signal, resolve_stop_signal(spec, image));
  ZL_TRY_ASSIGN(json rlimits, build_rlimits(spec.ulimits, host));
  json process = {
      {"terminal", spec.tty},
      {"user", {{"uid", user.uid}, {"gid", user.gid}, {"additionalGids", user.additional_gids}}},
      {"args", args},
      {"env", env},
      {"cwd", cwd},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"rlimits", std::move(rlimits)},
      {"noNewPrivileges", spec.no_new_privileges},
      // Never below zlayer's own score: lowering it needs CAP_SYS_RESOURCE, and never negative.
      {"oomScoreAdj", std::max(0, host.oom_score_adj)},
  };

  // Linux.
  ZL_TRY_ASSIGN(DeviceSet devices, build_devices(spec.devices, spec.privileged));
  ZL_TRY_ASSIGN(json resources, build_resources(spec.resources, host));
  resources["devices"] = std::move(devices.rules);
  ZL_TRY_ASSIGN(auto sysctls, build_sysctls(spec.sysctls, host_network));
  std::set<std::string> cap_set(caps.begin(), caps.end());
  ZL_TRY_ASSIGN(auto seccomp, seccomp_for(spec.seccomp_profile, spec.privileged, cap_set, host));
  json linux_cfg = {
      {"namespaces", namespaces_for(in.network, in.join_namespaces, host)},
      {"resources", std::move(resources)},
      {"cgroupsPath", in.cgroups_path.empty() ? "/zlayer/" + in.container_id : in.cgroups_path},
      {"devices", std::move(devices.devices)},
      {"sysctl", sysctls},
  };
  if (seccomp) linux_cfg["seccomp"] = std::move(*seccomp);
  if (!spec.privileged) {
    linux_cfg["maskedPaths"] = default_masked_paths();
    linux_cfg["readonlyPaths"] = default_readonly_paths();
  }

  MountContext mount_ctx{.read_only_rootfs = spec.read_only_rootfs, .privileged = spec.privileged};
  HostFiles files{.hosts = in.hosts_file, .hostname = in.hostname_file, .resolv_conf = in.resolv_conf};
  ZL_TRY_ASSIGN(json mounts, build_mounts(in.mounts ? *in.mounts : spec.mounts, files, mount_ctx));

  json annotations = json::object();
  for (const auto& [k, v] : image.labels) annotations[k] = v;
  for (const auto& [k, v] : spec.labels) annotations[k] = v;
  std::string stop_name = signal_name(stop_signal);
  annotations["org.opencontainers.image.stopSignal"] =
      stop_name.empty() ? std::to_string(stop_signal) : stop_name;

  return json{
      {"ociVersion", kOciVersion},
      {"process", std::move(process)},
      {"root", {{"path", in.rootfs.string()}, {"readonly", spec.read_only_rootfs}}},
      {"hostname", hostname},
      {"mounts", std::move(mounts)},
      {"linux", std::move(linux_cfg)},
      {"annotations", std::move(annotations)},
  };
}

Status write_runtime_config(const std::filesystem::path& bundle_dir, const json& config) {
  return write_file_atomic(bundle_dir / "config.json", config.dump(2) + "\n");
}

}  // namespace zl
