// LinuxRuntime: a container's files (open_root, for `docker cp`), its name (rename) and its
// terminal size (resize): changes to a container that are neither lifecycle nor I/O.
#include <fcntl.h>

#include "common/log.h"
#include "rootfs/overlay.h"
#include "runtime/linux/linux_runtime.h"

namespace zl {

Result<ContainerRoot> LinuxRuntime::open_root(const std::string& ref) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.pid > 0) {  // created, running or paused: its process's view, mounts and all
    UniqueFd fd(::open(fmt::format("/proc/{}/root", c.pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd) return ContainerRoot{.container = std::move(c), .fd = std::move(fd)};
    // It exited just now: its rootfs then.
  }
  ContainerRoot root;
  ZL_TRY_ASSIGN(root.lock, containers_.lock(id));
  ZL_TRY_ASSIGN(root.container, info(id));
  if (root.container.pid > 0)
    return conflict("container {} started while its files were being opened: try again", root.container.name);
  fs::path rootfs = root.container.rootfs;
  if (!is_mount_point(rootfs)) {  // e.g. after a reboot: mounted for this copy only
    ZL_TRY_ASSIGN(auto rec, containers_.load(id));
    ContainerPaths paths = containers_.paths(id);
    ZL_TRY(mount_overlay(
        OverlayLayout{.lower_dirs = rec.lower_dirs, .upper_dir = paths.dir / "upper", .work_dir = paths.dir / "work"},
        rootfs));
    root.mounted = std::shared_ptr<void>(nullptr, [rootfs](void*) {
      if (auto st = unmount_overlay(rootfs); !st) spdlog::warn("{}", st.error().message);
    });
  }
  root.fd = UniqueFd(::open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.fd) return errno_error(errno, "open the rootfs of container " + root.container.name);
  return root;
}

Status LinuxRuntime::rename_container(const std::string& ref, const std::string& new_name) {
  ZL_TRY(validate_container_name(new_name));
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(auto rec, containers_.load(id));
  std::string old_name = rec.name;
  if (old_name == new_name)
    return invalid_argument("cannot rename container {}: it already has that name", old_name);
  ZL_TRY(containers_.reserve_name(new_name, id));
  rec.name = rec.spec.name = new_name;
  if (auto st = containers_.save(rec); !st) {
    containers_.release_name(new_name, id);
    return tl::unexpected(std::move(st).error().wrap("rename container " + old_name));
  }
  containers_.release_name(old_name, id);
  if (auto c = info(id)) record_event("rename", *c, {{"oldName", "/" + old_name}});
  if (auto st = net_manager().rename_dns(id, old_name, new_name); !st)
    spdlog::warn("container {} renamed to {}, its DNS name not: {}", old_name, new_name, st.error().message);
  return {};
}

Status LinuxRuntime::resize_container(const std::string& ref, unsigned short rows, unsigned short cols) {
  ZL_TRY_ASSIGN(auto c, running(ref, "resize the terminal of"));
  if (!c.spec.tty) return conflict("cannot resize the terminal of container {}: it has no tty", c.name);
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  return d->resize(containers_.paths(c.id), rows, cols);
}

}  // namespace zl
