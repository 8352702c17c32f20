// LayerTree: creates layer entries beneath a root fd with openat2 + *at() calls, so no entry
// name, symlink or hardlink in a layer can make us touch anything outside that root.
#include "store/layer_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/log.h"

namespace zl {
namespace {

constexpr uint64_t kResolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// Opens dirfd/path as a directory; fails (ELOOP/EXDEV) rather than follow a symlink or leave dirfd.
int open_dir_beneath(int dirfd, const char* path) {
  struct open_how how {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = kResolve;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return static_cast<int>(fd);
}

std::string join(const EntryPath& p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += p.parts[i];
  }
  return out;
}

tl::unexpected<Error> walk_error(int err, const EntryPath& p, size_t n) {
  std::string at = join(p, n);
  switch (err) {
    case ELOOP:
      return invalid_argument("path goes through symlink \"{}\"", at);
    case ENOTDIR:
      return invalid_argument("path goes through \"{}\", which is not a directory", at);
    case EXDEV:
      return invalid_argument("path leaves the layer root at \"{}\"", at);
    case ENOENT:
      return not_found("\"{}\" does not exist", at);
    case ENOSYS:
      return unsupported("openat2 is not available: Linux 5.6 or later is needed");
    default:
      return errno_error(err, fmt::format("open directory \"{}\"", at));
  }
}

// Removes dirfd/name whatever it is (a directory with its contents), never following symlinks.
Status remove_at(int dirfd, const std::string& name) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0) return {};
  if (errno != EISDIR) return errno_error(errno, fmt::format("remove \"{}\"", name));
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno_error(errno, fmt::format("open \"{}\"", name));
  DIR* dir = ::fdopendir(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  if (dir == nullptr) return errno_error(errno, fmt::format("read \"{}\"", name));
  std::vector<std::string> children;
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") children.emplace_back(n);
  }
  ::closedir(dir);
  for (const auto& child : children) ZL_TRY(remove_at(fd.get(), child));
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0)
    return errno_error(errno, fmt::format("remove \"{}\"", name));
  return {};
}

// One xattr through set(name, value) -> 0/-1, with the policy documented in the header.
template <class Set>
Status set_xattr(const std::string& name, const std::string& value, bool special_file, Set set) {
  if (name.starts_with("trusted.overlay.")) {
    spdlog::debug("layer unpack: dropped xattr {} from the archive", name);
    return {};
  }
  if (set(name.c_str(), value.data(), value.size()) == 0) return {};
  int err = errno;
  if (err == ENOTSUP && name != "security.capability") return {};
  if (err == EPERM && special_file && name.starts_with("user.")) return {};
  return errno_error(err, fmt::format("set xattr {}", name));
}

Status apply_fd_meta(int fd, const EntryMeta& m, bool set_times) {
  if (::fchown(fd, m.uid, m.gid) != 0) return errno_error(errno, fmt::format("chown {}:{}", m.uid, m.gid));
  if (::fchmod(fd, m.perm) != 0) return errno_error(errno, fmt::format("chmod {:o}", m.perm));
  for (const auto& [name, value] : m.xattrs) {
    ZL_TRY(set_xattr(name, value, false,
                     [fd](const char* n, const void* v, size_t s) { return ::fsetxattr(fd, n, v, s, 0); }));
  }
  struct timespec ts[2] = {m.atime, m.mtime};
  if (set_times && ::futimens(fd, ts) != 0) return errno_error(errno, "set times");
  return {};
}

// For entries that must not be opened: symlinks, devices, fifos.
Status apply_path_meta(int dirfd, const std::string& leaf, const EntryMeta& m, bool is_symlink) {
  if (::fchownat(dirfd, leaf.c_str(), m.uid, m.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return errno_error(errno, fmt::format("chown {}:{}", m.uid, m.gid));
  if (!is_symlink && ::fchmodat(dirfd, leaf.c_str(), m.perm, 0) != 0)
    return errno_error(errno, fmt::format("chmod {:o}", m.perm));
  std::string proc = fmt::format("/proc/self/fd/{}/{}", dirfd, leaf);
  for (const auto& [name, value] : m.xattrs) {
    ZL_TRY(set_xattr(name, value, true, [&proc](const char* n, const void* v, size_t s) {
      return ::lsetxattr(proc.c_str(), n, v, s, 0);
    }));
  }
  struct timespec ts[2] = {m.atime, m.mtime};
  if (::utimensat(dirfd, leaf.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) return errno_error(errno, "set times");
  return {};
}

bool is_dir_at(int dirfd, const std::string& leaf) {
  struct stat st {};
  return ::fstatat(dirfd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

// Runs make() (a *at() call returning 0 or -1); when the name is taken, removes what is there
// and tries once more.
template <class Make>
Status LayerTree::create_replacing(int dirfd, const std::string& leaf, Make make, std::string_view what) const {
  if (make() == 0) return {};
  if (errno != EEXIST) return errno_error(errno, fmt::format("create {}", what));
  if (!opts_.replace_kind && is_dir_at(dirfd, leaf))
    return conflict("cannot overwrite directory \"{}\" with a {}", leaf, what);
  ZL_TRY(remove_at(dirfd, leaf));
  if (make() != 0) return errno_error(errno, fmt::format("create {}", what));
  return {};
}

std::string EntryPath::str() const {
  return parts.empty() ? "." : join(*this, parts.size());
}

Result<EntryPath> parse_entry_path(std::string_view name) {
  if (name.starts_with('/')) return invalid_argument("absolute path");
  EntryPath p;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = std::min(name.find('/', pos), name.size());
    std::string_view part = name.substr(pos, end - pos);
    if (part == "..") return invalid_argument("\"..\" component");
    if (!part.empty() && part != ".") p.parts.emplace_back(part);
    pos = end + 1;
  }
  return p;
}

bool symlink_escapes(const EntryPath& link, std::string_view target) {
  if (target.starts_with('/')) return false;
  long depth = static_cast<long>(link.parts.size()) - 1;  // the link's own directory
  size_t pos = 0;
  while (pos <= target.size()) {
    size_t end = std::min(target.find('/', pos), target.size());
    std::string_view part = target.substr(pos, end - pos);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    pos = end + 1;
  }
  return false;
}

Result<LayerTree> LayerTree::open(const fs::path& root, Options opts) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open layer root " + root.string());
  return LayerTree(std::move(fd), opts);
}

Result<UniqueFd> LayerTree::open_dir(const EntryPath& p, size_t n, bool create) const {
  if (n > 0) {  // fast path: one openat2 for the whole parent path
    UniqueFd fd(open_dir_beneath(root_.get(), join(p, n).c_str()));
    if (fd) return fd;
  }
  UniqueFd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  if (!cur) return errno_error(errno, "dup layer root fd");
  for (size_t i = 0; i < n; ++i) {  // component by component: creates what is missing, names what is wrong
    const char* part = p.parts[i].c_str();
    UniqueFd next(open_dir_beneath(cur.get(), part));
    if (!next && errno == ENOENT && create) {
      if (::mkdirat(cur.get(), part, 0755) != 0 && errno != EEXIST)
        return errno_error(errno, fmt::format("create directory \"{}\"", join(p, i + 1)));
      next.reset(open_dir_beneath(cur.get(), part));
      if (next && ::fchmod(next.get(), 0755) != 0) return errno_error(errno, "chmod directory");  // umask
    }
    if (!next) return walk_error(errno, p, i + 1);
    cur = std::move(next);
  }
  return cur;
}

Result<UniqueFd> LayerTree::create_file(const EntryPath& p) {
  ZL_TRY_ASSIGN(auto dir, open_parent(p));
  const char* leaf = p.leaf().c_str();
  UniqueFd fd;
  auto make = [&] {
    fd.reset(::openat(dir.get(), leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    return fd ? 0 : -1;
  };
  ZL_TRY(create_replacing(dir.get(), p.leaf(), make, "file"));
  return fd;
}

Status LayerTree::finish_file(int fd, const EntryPath&, const EntryMeta& m) {
  return apply_fd_meta(fd, m, true);
}

Status LayerTree::make_dir(const EntryPath& p, const EntryMeta& m) {
  if (p.is_root()) {
    ZL_TRY(apply_fd_meta(root_.get(), m, false));
    dir_times_.emplace_back(p, m);
    return {};
  }
  ZL_TRY_ASSIGN(auto parent, open_parent(p));
  const char* leaf = p.leaf().c_str();
  if (::mkdirat(parent.get(), leaf, 0700) != 0) {
    if (errno != EEXIST) return errno_error(errno, "create directory");
    struct stat st {};
    if (::fstatat(parent.get(), leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno_error(errno, "stat");
    if (!S_ISDIR(st.st_mode)) {  // a later entry replaces an earlier non-directory
      if (!opts_.replace_kind) return conflict("cannot overwrite non-directory \"{}\" with a directory", p.leaf());
      ZL_TRY(remove_at(parent.get(), p.leaf()));
      if (::mkdirat(parent.get(), leaf, 0700) != 0) return errno_error(errno, "create directory");
    }
  }
  UniqueFd fd(::openat(parent.get(), leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open directory");
  ZL_TRY(apply_fd_meta(fd.get(), m, false));
  dir_times_.emplace_back(p, m);
  return {};
}

Status LayerTree::make_symlink(const EntryPath& p, const std::string& target, const EntryMeta& m) {
  if (p.is_root()) return invalid_argument("the layer root cannot be a symlink");
  if (target.empty()) return invalid_argument("empty symlink target");
  if (!opts_.any_symlink_target && symlink_escapes(p, target))
    return invalid_argument("symlink target \"{}\" leads out of the layer root", target);
  ZL_TRY_ASSIGN(auto dir, open_parent(p));
  auto make = [&] { return ::symlinkat(target.c_str(), dir.get(), p.leaf().c_str()); };
  ZL_TRY(create_replacing(dir.get(), p.leaf(), make, "symlink"));
  return apply_path_meta(dir.get(), p.leaf(), m, true);
}

Status LayerTree::make_hardlink(const EntryPath& p, const EntryPath& target) {
  if (p.is_root() || target.is_root()) return invalid_argument("hardlink to or as the layer root");
  if (p.parts == target.parts) return {};  // a link to itself: nothing to do
  auto tdir = open_dir(target, target.parts.size() - 1, false);
  if (!tdir && tdir.error().kind == ErrorKind::not_found)
    return invalid_argument("hardlink target \"{}\" does not exist", target.str());
  if (!tdir) return tl::unexpected(tdir.error().wrap(fmt::format("hardlink target \"{}\"", target.str())));
  ZL_TRY_ASSIGN(auto dir, open_parent(p));
  auto make = [&] { return ::linkat(tdir->get(), target.leaf().c_str(), dir.get(), p.leaf().c_str(), 0); };
  if (make() == 0) return {};
  if (errno == ENOENT) return invalid_argument("hardlink target \"{}\" does not exist", target.str());
  if (errno == EPERM) return invalid_argument("hardlink target \"{}\" is a directory", target.str());
  if (errno != EEXIST) return errno_error(errno, "create hardlink");
  if (!opts_.replace_kind && is_dir_at(dir.get(), p.leaf()))
    return conflict("cannot overwrite directory \"{}\" with a hardlink", p.leaf());
  ZL_TRY(remove_at(dir.get(), p.leaf()));
  if (make() != 0) return errno_error(errno, "create hardlink");
  return {};
}

Status LayerTree::make_node(const EntryPath& p, mode_t type, dev_t dev, const EntryMeta& m) {
  if (p.is_root()) return invalid_argument("the layer root must be a directory");
  ZL_TRY_ASSIGN(auto dir, open_parent(p));
  auto make = [&] { return ::mknodat(dir.get(), p.leaf().c_str(), type | 0600, dev); };
  ZL_TRY(create_replacing(dir.get(), p.leaf(), make, "device node"));
  return apply_path_meta(dir.get(), p.leaf(), m, false);
}

Status LayerTree::make_whiteout(const EntryPath& p, const EntryMeta& m) {
  return make_node(p, S_IFCHR, makedev(0, 0), m);
}

Status LayerTree::make_opaque(const EntryPath& dir) {
  ZL_TRY_ASSIGN(auto fd, open_dir(dir, dir.parts.size(), true));
  if (::fsetxattr(fd.get(), "trusted.overlay.opaque", "y", 1, 0) != 0)
    return errno_error(errno, "set trusted.overlay.opaque");
  return {};
}

Status LayerTree::finish() {
  for (const auto& [path, meta] : dir_times_) {
    auto fd = open_dir(path, path.parts.size(), false);
    if (!fd) continue;  // replaced by a later entry: its own metadata stands
    struct timespec ts[2] = {meta.atime, meta.mtime};
    if (::futimens(fd->get(), ts) != 0) return errno_error(errno, "set times of " + path.str());
  }
  dir_times_.clear();
  return {};
}

}  // namespace zl
