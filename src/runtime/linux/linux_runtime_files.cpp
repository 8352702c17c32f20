// LinuxRuntime: a container's files (open_root, for `docker cp`), its name (rename) and its
// terminal size (resize): changes to a container that are neither lifecycle nor I/O.
#include <fcntl.h>
#include <sys/mount.h>

#include <algorithm>
#include <cstring>

#include "common/log.h"
#include "rootfs/overlay.h"
#include "rootfs/root_files.h"
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
  ZL_TRY_ASSIGN(auto volumes, mount_volumes_for_copy(root.container.spec, root.fd.get()));
  // Unmounted before the rootfs: members are destroyed in reverse order of declaration, so
  // chain them explicitly.
  root.mounted = std::shared_ptr<void>(nullptr, [volumes = std::move(volumes), rootfs = std::move(root.mounted)](void*) mutable {
    volumes.reset();
    rootfs.reset();
  });
  return root;
}

// A stopped container's volumes and bind mounts on its rootfs while its files are copied, as
// docker shows them: at their targets, read-only ones read-only; unmounted when the result goes.
Result<std::shared_ptr<void>> LinuxRuntime::mount_volumes_for_copy(const ContainerSpec& spec, int root) {
  std::vector<const Mount*> mounts;
  for (const auto& m : spec.mounts)
    if (m.type != Mount::Type::tmpfs && !m.source.empty()) mounts.push_back(&m);
  // Parents before children: a volume at /data/sub goes on top of the one at /data.
  std::ranges::stable_sort(mounts, {}, [](const Mount* m) { return std::ranges::count(m->target, '/'); });
  auto mounted = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<void> undo(nullptr, [mounted](void*) {
    for (auto it = mounted->rbegin(); it != mounted->rend(); ++it)
      if (::umount2(it->c_str(), MNT_DETACH) != 0) spdlog::warn("unmount {}: {}", *it, std::strerror(errno));
  });
  for (const Mount* m : mounts) {
    std::string source = m->type == Mount::Type::volume ? volumes_.data_dir(m->source).string() : m->source;
    std::error_code ec;
    bool directory = fs::is_directory(source, ec);
    if (!fs::exists(source, ec)) return not_found("{} source {} for {} is gone", m->type == Mount::Type::volume ? "volume" : "bind mount", m->source, m->target);
    ZL_TRY_ASSIGN(auto at, make_mount_point_in_root(root, m->target, directory));
    std::string magic = fmt::format("/proc/self/fd/{}", at.get());
    std::error_code link_ec;
    std::string host_path = fs::read_symlink(magic, link_ec).string();
    if (link_ec) return errno_error(link_ec.value(), "resolve mount point " + m->target);
    if (::mount(source.c_str(), magic.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return errno_error(errno, fmt::format("mount {} at {}", source, m->target));
    mounted->push_back(host_path);
    ::mount(nullptr, host_path.c_str(), nullptr, MS_PRIVATE | MS_REC, nullptr);
    if (m->read_only && ::mount(nullptr, host_path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      return errno_error(errno, "make " + m->target + " read-only");
  }
  return undo;
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
