// stat / tar out / tar in beneath a root fd. Paths given by the user are opened with openat2
// RESOLVE_IN_ROOT; below that point the tar writer walks with *at() calls and O_NOFOLLOW, and
// the extractor goes through LayerTree (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
#include "rootfs/root_files.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "store/archive_stream.h"
#include "store/layer_tree.h"

namespace zl {
namespace {

constexpr size_t kChunk = size_t{1} << 20;

// The parts of a user's path: what to open, and whether its last component is followed.
struct SplitPath {
  std::string parent;  // "" for the root
  std::string leaf;    // "." when the whole path is followed
  std::string name;    // docker's name for it
};

SplitPath split_path(std::string_view path) {
  bool follow = path.empty() || path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..") ||
                path == "." || path == "..";
  std::string_view trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.remove_suffix(1);
  size_t slash = trimmed.rfind('/');
  std::string_view base = slash == std::string_view::npos ? trimmed : trimmed.substr(slash + 1);
  if (trimmed.empty() || trimmed == "/") base = "/";
  SplitPath out;
  out.name.assign(base.data(), base.size());
  if (follow) {
    out.parent = path.empty() ? std::string("/") : std::string(path);
    out.leaf = ".";
  } else {
    if (slash != std::string_view::npos) out.parent.assign(trimmed.data(), slash + 1);
    out.leaf = out.name;
  }
  return out;
}

// Opens `path` beneath `root` as the container would resolve it ("" is the root itself).
Result<UniqueFd> open_in_root(int root, const std::string& path, int flags) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char* p = path.empty() ? "." : path.c_str();
  long fd;
  do {
    fd = ::syscall(SYS_openat2, root, p, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  int err = errno;
  if (err == ENOENT) return not_found("no such file or directory: {}", path);
  if (err == ENOTDIR) return invalid_argument("{} is not a directory", path);
  if (err == ENOSYS) return unsupported("openat2 is not available: Linux 5.6 or later is needed");
  return errno_error(err, "open " + path);
}

Result<struct stat> stat_at(int dirfd, const std::string& leaf, const std::string& path) {
  struct stat st {};
  if (::fstatat(dirfd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
  if (errno == ENOENT) return not_found("no such file or directory: {}", path);
  return errno_error(errno, "stat " + path);
}

Result<std::string> read_link_at(int dirfd, const std::string& leaf) {
  std::string target(4096, '\0');
  ssize_t n = ::readlinkat(dirfd, leaf.c_str(), target.data(), target.size());
  if (n < 0) return errno_error(errno, "read symlink " + leaf);
  target.resize(static_cast<size_t>(n));
  return target;
}

// "/a/./b/../c" -> "/a/c": the path lexically cleaned, always absolute.
std::string clean_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t end = std::min(path.find('/', pos), path.size());
    std::string_view part = path.substr(pos, end - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    pos = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

// Filesystems whose contents are the kernel's, not the container's files.
bool pseudo_fs(int dirfd) {
  struct statfs sf {};
  if (::fstatfs(dirfd, &sf) != 0) return false;
  switch (static_cast<unsigned long>(sf.f_type)) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// A tar writer over `out`, adding entries found beneath directory fds.
class TarOut {
 public:
  explicit TarOut(const WriteFn& out) : writer_(out), a_(archive_write_new()) {}

  Status open() {
    archive_write_set_format_pax_restricted(a_.get());
    if (archive_write_open(a_.get(), &writer_, nullptr, &ArchiveWriter::write, nullptr) != ARCHIVE_OK)
      return failure("open tar writer");
    return {};
  }

  Status close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return failure("finish tar");
    return {};
  }

  // dirfd/leaf (not followed) as `name`, a directory with everything below it.
  Status add(int dirfd, const std::string& leaf, const std::string& name) {
    ZL_TRY_ASSIGN(struct stat st, stat_at(dirfd, leaf, name));
    if (S_ISSOCK(st.st_mode)) return {};
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_copy_stat(e.get(), &st);
    archive_entry_set_pathname(e.get(), S_ISDIR(st.st_mode) ? (name + "/").c_str() : name.c_str());
    archive_entry_set_uname(e.get(), nullptr);
    archive_entry_set_gname(e.get(), nullptr);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto [it, fresh] = links_.try_emplace({st.st_dev, st.st_ino}, name);
      if (!fresh) {
        archive_entry_set_size(e.get(), 0);
        archive_entry_copy_hardlink(e.get(), it->second.c_str());
        return header(e.get(), name);
      }
    }
    if (S_ISLNK(st.st_mode)) {
      ZL_TRY_ASSIGN(auto target, read_link_at(dirfd, leaf));
      archive_entry_copy_symlink(e.get(), target.c_str());
    }
    if (S_ISREG(st.st_mode)) return add_file(dirfd, leaf, name, e.get());
    if (!S_ISDIR(st.st_mode)) {
      if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) archive_entry_set_size(e.get(), 0);
      return header(e.get(), name);
    }
    archive_entry_set_size(e.get(), 0);
    ZL_TRY(header(e.get(), name));
    UniqueFd dir(::openat(dirfd, leaf.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) return errno_error(errno, "open directory " + name);
    if (pseudo_fs(dir.get())) return {};
    ZL_TRY_ASSIGN(auto children, list(dir.get(), name));
    for (const auto& child : children) ZL_TRY(add(dir.get(), child, name + "/" + child));
    return {};
  }

 private:
  Status add_file(int dirfd, const std::string& leaf, const std::string& name, archive_entry* e) {
    UniqueFd fd(::openat(dirfd, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return errno_error(errno, "open " + name);
    ZL_TRY(header(e, name));
    // A file that grows meanwhile is cut at the size in the header; one that shrinks is padded.
    auto left = static_cast<size_t>(archive_entry_size(e));
    std::vector<char> buf(std::min(kChunk, std::max<size_t>(left, 1)));
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf.data(), std::min(buf.size(), left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno_error(errno, "read " + name);
      if (n == 0) break;
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) != n) return failure("write " + name);
      left -= static_cast<size_t>(n);
    }
    return {};
  }

  static Result<std::vector<std::string>> list(int dirfd, const std::string& name) {
    DIR* d = ::fdopendir(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
    if (d == nullptr) return errno_error(errno, "read directory " + name);
    std::vector<std::string> out;
    while (struct dirent* ent = ::readdir(d)) {
      std::string_view n = ent->d_name;
      if (n != "." && n != "..") out.emplace_back(n);
    }
    ::closedir(d);
    std::sort(out.begin(), out.end());
    return out;
  }

  Status header(archive_entry* e, const std::string& name) {
    if (archive_write_header(a_.get(), e) < ARCHIVE_WARN) return failure("write tar header of " + name);
    return {};
  }

  Status failure(const std::string& what) {
    if (writer_.error()) return tl::unexpected(*writer_.error());
    const char* msg = archive_error_string(a_.get());
    return io("{}: {}", what, msg ? msg : "unknown error");
  }

  ArchiveWriter writer_;
  std::unique_ptr<archive, ArchiveWriteFree> a_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // hardlinked files already written
};

}  // namespace

Result<RootPathStat> stat_in_root(int root, std::string_view path) {
  SplitPath sp = split_path(path);
  ZL_TRY_ASSIGN(auto dir, open_in_root(root, sp.parent, O_PATH | O_DIRECTORY));
  ZL_TRY_ASSIGN(struct stat st, stat_at(dir.get(), sp.leaf, std::string(path)));
  RootPathStat out{.name = sp.name,
                   .size = st.st_size,
                   .mode = st.st_mode,
                   .mtime_unix_nano = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
  if (S_ISLNK(st.st_mode)) {
    ZL_TRY_ASSIGN(std::string target, read_link_at(dir.get(), sp.leaf));
    if (!target.starts_with('/')) target.insert(0, "/" + sp.parent + "/");  // relative to the link's directory
    out.link_target = clean_path(target);
  }
  return out;
}

Status tar_from_root(int root, std::string_view path, const WriteFn& out) {
  SplitPath sp = split_path(path);
  ZL_TRY_ASSIGN(auto dir, open_in_root(root, sp.parent, O_RDONLY | O_DIRECTORY));
  TarOut tar(out);
  ZL_TRY(tar.open());
  ZL_TRY(tar.add(dir.get(), sp.leaf, sp.name == "/" ? "." : sp.name));
  return tar.close();
}

Status extract_to_root(int root, std::string_view dir, const ReadFn& in, const RootExtractOptions& opts) {
  ZL_TRY_ASSIGN(auto fd, open_in_root(root, std::string(dir), O_RDONLY | O_DIRECTORY));
  LayerTree tree = LayerTree::adopt(std::move(fd), {.any_symlink_target = true, .replace_kind = opts.replace_kind});
  ZL_TRY(extract_tar(in, tree, TarExtractOptions{.owner = opts.owner}));
  return {};
}

Result<UniqueFd> make_mount_point_in_root(int root, std::string_view path, bool directory) {
  std::string cleaned = clean_path(path);
  ZL_TRY_ASSIGN(auto at, open_in_root(root, "", O_PATH | O_DIRECTORY));
  std::string sofar;
  size_t pos = 1;
  while (pos < cleaned.size()) {
    size_t end = std::min(cleaned.find('/', pos), cleaned.size());
    std::string part = cleaned.substr(pos, end - pos);
    bool last = end == cleaned.size();
    sofar += "/" + part;
    auto next = open_in_root(root, sofar, O_PATH);
    if (!next && next.error().kind == ErrorKind::not_found) {
      // Made in the directory opened above (a real one: no link is followed from it).
      int rc = last && !directory ? ::openat(at.get(), part.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644)
                                  : ::mkdirat(at.get(), part.c_str(), 0755);
      if (rc < 0 && errno != EEXIST) return errno_error(errno, "make mount point " + sofar);
      if (last && !directory && rc >= 0) ::close(rc);
      next = open_in_root(root, sofar, O_PATH);
    }
    if (!next) return tl::unexpected(next.error().wrap("mount point " + cleaned));
    at = std::move(*next);
    pos = end + 1;
  }
  struct stat st {};
  if (::fstat(at.get(), &st) != 0) return errno_error(errno, "stat mount point " + cleaned);
  if (S_ISDIR(st.st_mode) != directory)
    return invalid_argument("mount point {} is {}a directory", cleaned, directory ? "not " : "");
  return at;
}

}  // namespace zl
