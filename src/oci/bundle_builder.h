// The OCI runtime bundle's config.json (runtime-spec 1.1.0) for one container, from its image
// config and its ContainerSpec: the one place where every oci/ rule comes together.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "oci/host_info.h"
#include "oci/mounts.h"
#include "runtime/container_spec.h"

namespace zl {

inline constexpr const char* kOciVersion = "1.1.0";

// The container's network namespace.
struct NetworkNamespace {
  enum class Mode { create, join, host };
  Mode mode = Mode::create;
  std::string path;  // join: the namespace to enter, e.g. /run/netns/<name>
};

struct BundleInputs {
  ContainerSpec spec;
  nlohmann::json image_config;   // the whole config blob; its "config" holds Env, Cmd, ...
  std::filesystem::path rootfs;  // absolute; the image's /etc/passwd and /etc/group are read there
  std::string container_id;
  std::string hostname;  // empty: spec.hostname, else default_hostname()
  // Host files prepared by the caller, bound over the image's; empty: not bound.
  std::filesystem::path hosts_file, hostname_file, resolv_conf;
  std::optional<std::vector<Mount>>
      mounts;  // spec.mounts with volumes resolved to host paths; unset: spec.mounts
  NetworkNamespace network;
  std::map<std::string, std::string> join_namespaces;  // "ipc" / "pid" -> a namespace to enter (/proc/<pid>/ns/ipc)
  std::string cgroups_path;      // empty: "/zlayer/<container_id>"
  std::optional<HostInfo> host;  // unset: HostInfo::probe()
};

// Docker's default hostname: the first 12 characters of the container id (with the host network:
// the host's name).
std::string default_hostname(const std::string& container_id, const NetworkNamespace& network,
                             const HostInfo& host);

// config.json for the inputs. Every user error (bad capability, user, ulimit, sysctl, mount,
// device, resource, signal, missing command) -> invalid_argument (or not_found) naming it.
Result<nlohmann::json> build_runtime_config(const BundleInputs& in);

// Writes config into bundle_dir/config.json atomically.
Status write_runtime_config(const std::filesystem::path& bundle_dir, const nlohmann::json& config);

}  // namespace zl
