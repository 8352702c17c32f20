// A container's root filesystem: an overlayfs whose lower dirs are the image's shared,
// read-only layer dirs and whose upper dir is the container's own scratch layer.
#pragma once

#include <vector>

#include "common/fs.h"

namespace zl {

struct OverlayLayout {
  std::vector<fs::path> lower_dirs;  // lowest (base) layer first, as ImageDetails lists them
  fs::path upper_dir;                // the container's writable layer
  fs::path work_dir;                 // overlayfs scratch, same filesystem as upper_dir
  // overlayfs "volatile" (Linux 5.10+, quietly left out where the kernel refuses it): nothing
  // is synced to the upper dir, not even at unmount, which would otherwise sync the whole
  // filesystem under it. For a container that is removed when it exits, as podman does for
  // --rm: after a crash the upper dir is unusable, but nothing would use it again anyway.
  bool volatile_upper = false;
};

// Mounts the overlay at `target` (created if missing). Any number of layers: the classic
// mount(2) option string when it fits in a page, else the new mount API appending lower dirs
// one at a time ("lowerdir+", Linux 6.8+).
Status mount_overlay(const OverlayLayout& layout, const fs::path& target);

// Unmounts `target` if something is mounted there (lazily when busy); not mounted is success.
Status unmount_overlay(const fs::path& target);

// True when `path` is a mount point (its device differs from its parent's, or mountinfo says so).
bool is_mount_point(const fs::path& path);

}  // namespace zl
