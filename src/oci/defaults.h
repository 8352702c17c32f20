// Docker's defaults for every Linux container: masked and read-only /proc and /sys paths, the
// kernel filesystem mounts, and the device cgroup allow list.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zl {

// Paths hidden from the container (a file gets /dev/null over it, a directory an empty tmpfs).
const std::vector<std::string>& default_masked_paths();

// Paths remounted read-only.
const std::vector<std::string>& default_readonly_paths();

// /proc, /dev (tmpfs), /dev/pts, /sys (ro), /sys/fs/cgroup (ro), /dev/mqueue, /dev/shm (64m),
// as OCI mount objects.
nlohmann::json default_mounts();

// linux.resources.devices: deny everything, then allow /dev/null, zero, full, random, urandom,
// tty, console, ptmx, the pty slaves and mknod of any node; deny /dev/fuse (docker's list, plus
// the rules runc adds implicitly, written out so every runtime applies the same; the wildcard
// rules come last, as cgroup v1 cannot apply a specific deny after a wildcard allow).
nlohmann::json default_device_rules();

}  // namespace zl
