// The container's mount list: docker's kernel filesystem mounts, the host files zlayer prepared
// (/etc/hosts, /etc/hostname, /etc/resolv.conf), and the user's bind, volume and tmpfs mounts.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/container_spec.h"

namespace zl {

// Host files bound over the image's; an empty path is not bound.
struct HostFiles {
  std::filesystem::path hosts, hostname, resolv_conf;
};

struct MountContext {
  bool read_only_rootfs = false;  // kernel fs mounts other than /proc and /dev* also become "ro"
  bool privileged = false;        // /sys and /sys/fs/cgroup stay writable
};

// OCI mounts, in mount order. A user mount replaces a default one at the same destination (a user
// /dev replaces all of /dev/*) and a host file at the same path. User mounts come sorted so a
// parent is mounted before anything under it. Binds and volumes (whose sources must be absolute
// host paths that exist) get "rbind" + "rprivate" unless their options say otherwise; tmpfs gets
// docker's "noexec,nosuid,nodev" defaults, which the mount's options may override ("exec").
// Relative or duplicate targets -> invalid_argument.
Result<nlohmann::json> build_mounts(const std::vector<Mount>& user, const HostFiles& files,
                                    const MountContext& ctx);

// Merges mount options left to right: the last of a pair ("exec"/"noexec", "ro"/"rw", ...) and
// the last "key=value" for a key win. Order of first appearance is kept.
std::vector<std::string> merge_mount_options(const std::vector<std::string>& options);

}  // namespace zl
