#include "rootfs/overlay.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace zl {

namespace {

// Option values may not contain the separators overlayfs parses.
Status check_path(const fs::path& p) {
  const std::string s = p.string();
  if (s.find_first_of(":,") != std::string::npos)
    return invalid_argument("overlay path {} contains ':' or ',', which overlayfs cannot take", s);
  return {};
}

std::string lower_option(const OverlayLayout& l) {
  std::string lower;
  for (auto it = l.lower_dirs.rbegin(); it != l.lower_dirs.rend(); ++it) {  // top layer first
    if (!lower.empty()) lower += ':';
    lower += it->string();
  }
  return lower;
}

Status mount_classic(const OverlayLayout& l, const fs::path& target, const std::string& data) {
  if (l.volatile_upper && ::mount("overlay", target.c_str(), "overlay", 0, (data + ",volatile").c_str()) == 0)
    return {};
  if (::mount("overlay", target.c_str(), "overlay", 0, data.c_str()) != 0)
    return errno_error(errno, fmt::format("mount overlay on {} ({} layers)", target.string(), l.lower_dirs.size()));
  return {};
}

int sys_fsopen(const char* name, unsigned flags) { return static_cast<int>(::syscall(SYS_fsopen, name, flags)); }
int sys_fsconfig(int fd, unsigned cmd, const char* key, const char* value, int aux) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attrs) { return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attrs)); }
int sys_move_mount(int from_fd, const char* from, int to_fd, const char* to, unsigned flags) {
  return static_cast<int>(::syscall(SYS_move_mount, from_fd, from, to_fd, to, flags));
}

// The new mount API: each lower dir is its own fsconfig call, so there is no length limit.
Status mount_many_layers(const OverlayLayout& l, const fs::path& target) {
  auto fail = [&](const char* step) {
    return errno_error(errno, fmt::format("mount overlay on {} ({} layers): {}", target.string(),
                                          l.lower_dirs.size(), step));
  };
  UniqueFd fs_fd(sys_fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs_fd) return fail("fsopen");
  for (auto it = l.lower_dirs.rbegin(); it != l.lower_dirs.rend(); ++it) {
    if (sys_fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, "lowerdir+", it->c_str(), 0) != 0)
      return fail("this kernel cannot append lower dirs (needs Linux 6.8+)");
  }
  if (sys_fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, "upperdir", l.upper_dir.c_str(), 0) != 0) return fail("upperdir");
  if (sys_fsconfig(fs_fd.get(), FSCONFIG_SET_STRING, "workdir", l.work_dir.c_str(), 0) != 0) return fail("workdir");
  if (l.volatile_upper && sys_fsconfig(fs_fd.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0) != 0)
    return fail("volatile");
  if (sys_fsconfig(fs_fd.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) return fail("create");
  UniqueFd mnt(sys_fsmount(fs_fd.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return fail("fsmount");
  if (sys_move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) return fail("move_mount");
  return {};
}

}  // namespace

Status mount_overlay(const OverlayLayout& layout, const fs::path& target) {
  if (layout.lower_dirs.empty()) return invalid_argument("overlay on {} needs at least one lower dir", target.string());
  for (const auto& p : layout.lower_dirs) ZL_TRY(check_path(p));
  ZL_TRY(check_path(layout.upper_dir));
  ZL_TRY(check_path(layout.work_dir));
  ZL_TRY(make_dirs(layout.upper_dir));
  ZL_TRY(make_dirs(layout.work_dir));
  ZL_TRY(make_dirs(target));
  std::string data = fmt::format("lowerdir={},upperdir={},workdir={}", lower_option(layout), layout.upper_dir.string(),
                                 layout.work_dir.string());
  if (data.size() < static_cast<size_t>(::getpagesize())) return mount_classic(layout, target, data);
  return mount_many_layers(layout, target);
}

bool is_mount_point(const fs::path& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string want = fs::absolute(path).lexically_normal().string();
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    if (mount_point == want) return true;
  }
  return false;
}

Status unmount_overlay(const fs::path& target) {
  for (int i = 0; i < 16 && is_mount_point(target); ++i) {  // stacked mounts come off one by one
    if (::umount2(target.c_str(), 0) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return {};
    if (errno != EBUSY) return errno_error(errno, fmt::format("unmount {}", target.string()));
    if (::umount2(target.c_str(), MNT_DETACH) != 0)
      return errno_error(errno, fmt::format("unmount {} (lazily)", target.string()));
  }
  return {};
}

}  // namespace zl
