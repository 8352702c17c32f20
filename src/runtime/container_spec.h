// What a user asks of one container, whatever the front end (CLI flags, a deployment spec,
// the Docker API, CRI): image, process, resources, security, mounts. Backends turn it into
// their own form (an OCI bundle for Linux, an HCS document on Windows, a VM for isolation: vm).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/port_spec.h"

namespace zl {

// Labels by which a container is a replica of a service: on a bridge network it then also
// answers to "<service>", "<service>.service.local" and "<replica>.<service>.service.local".
// With kHealthGatedLabel "true" the first two wait for Runtime::set_service_names (the agent
// publishes them while the replica is healthy).
inline constexpr const char* kServiceLabel = "zlayer.service";
inline constexpr const char* kReplicaLabel = "zlayer.replica";
inline constexpr const char* kHealthGatedLabel = "zlayer.health-gated";

struct Mount {
  enum class Type { bind, volume, tmpfs };
  Type type = Type::bind;
  std::string source;  // host path (bind), volume name (volume), empty (tmpfs)
  std::string target;  // absolute path in the container
  bool read_only = false;
  std::vector<std::string> options;  // extra mount options ("nosuid", "size=64m", "rprivate")
};

struct Ulimit {
  std::string name;  // "nofile", "nproc", ... (without RLIMIT_)
  uint64_t soft = 0, hard = 0;
};

struct DeviceMapping {
  std::string host_path;       // /dev/fuse
  std::string container_path;  // empty: same as host_path
  std::string permissions = "rwm";
};

struct Resources {
  std::optional<double> cpus;            // cores -> CFS quota/period
  std::optional<uint64_t> cpu_shares;
  std::optional<std::string> cpuset_cpus;
  std::optional<int64_t> memory;         // bytes
  std::optional<int64_t> memory_swap;    // bytes of memory + swap; -1 unlimited
  std::optional<int64_t> pids_limit;
};

struct ContainerSpec {
  std::string name;   // unique among containers; generated when empty
  std::string image;  // as the user typed it; resolved through the image store

  // Process. Empty means "from the image" (docker's rules merge them with the image config).
  std::optional<std::vector<std::string>> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "KEY=value", applied after the image's env
  std::string workdir;
  std::string user;  // "name", "uid", "uid:gid", "name:group"
  bool tty = false;
  bool open_stdin = false;
  std::string hostname;
  std::string stop_signal;            // empty: the image's, else SIGTERM
  std::optional<int> stop_timeout;    // seconds before SIGKILL; default 10

  Resources resources;

  // Security.
  std::vector<std::string> cap_add, cap_drop;  // "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL"
  bool privileged = false;
  bool read_only_rootfs = false;
  bool no_new_privileges = false;
  std::string seccomp_profile;  // empty: docker's default; "unconfined"; or a path to a JSON profile
  std::map<std::string, std::string> sysctls;
  std::vector<Ulimit> ulimits;
  std::vector<DeviceMapping> devices;

  std::vector<Mount> mounts;
  std::map<std::string, std::string> labels;

  // Network. network_mode: "bridge" (or empty: the default network), "none", "host",
  // "container:<id|name>" (share that running container's namespace), or a network's name.
  std::string network_mode;
  std::vector<std::string> networks;         // further networks (eth1, eth2, ...)
  std::vector<PortMapping> ports;            // published on the first network
  std::vector<std::string> network_aliases;  // more names the container answers to
  // IPC and PID namespaces: "" its own, or "container:<id|name>" to join that running container's
  // (a Kubernetes pod's containers share its sandbox's IPC, and its PID with shareProcessNamespace).
  std::string ipc_mode, pid_mode;

  // Lifecycle.
  bool auto_remove = false;  // removed once it exits (`run --rm`): its rootfs and bundle are scratch
};

}  // namespace zl
