#include "store/volume_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/failpoint.h"
#include "common/ids.h"
#include "common/log.h"

namespace zl {

using json = nlohmann::json;

namespace {

constexpr const char* kMetadataFile = "volume.json";
// Beside _data while a copy-up runs (the copy is not whole until it is gone).
constexpr const char* kCopyingMarker = "copying";

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The names in a directory, "." and ".." left out. The fd stays open (a dup is read).
Result<std::vector<std::string>> dir_names(int dir_fd, std::string_view what) {
  int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errno_error(errno, what);
  DIR* d = ::fdopendir(fd);
  if (!d) {
    int err = errno;
    ::close(fd);
    return errno_error(err, what);
  }
  ::rewinddir(d);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(d);
  if (err) return errno_error(err, what);
  return names;
}

// Copies the tree under one directory into another, for copy-up. Every open is relative to a
// parent fd and does not follow symlinks, so an image's links cannot lead the copy elsewhere.
class TreeCopier {
 public:
  TreeCopier(int dst_root, std::string volume) : dst_root_(dst_root), volume_(std::move(volume)) {}

  Status copy_dir(int src, int dst, const std::string& rel) {
    ZL_TRY_ASSIGN(auto names, dir_names(src, fmt::format("copy image content into volume {}: read {}",
                                                         volume_, shown(rel))));
    for (const auto& name : names) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      ZL_TRY(copy_entry(src, dst, name, child));
      if (rel.empty()) ZL_FAILPOINT("volume.copy-up.midway");  // one entry of the top dir copied
    }
    return {};
  }

  // Owner, mode, xattrs and times of an open source onto an open copy (chown first: it clears
  // set-id bits and file capabilities).
  Status copy_attrs(int src, int dst, const struct stat& st, const std::string& rel) {
    if (::fchown(dst, st.st_uid, st.st_gid) != 0) return fail(errno, "set the owner of", rel);
    if (::fchmod(dst, st.st_mode & 07777) != 0) return fail(errno, "set the mode of", rel);
    copy_xattrs(src, dst, rel);
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (::futimens(dst, times) != 0) return fail(errno, "set the times of", rel);
    return {};
  }

 private:
  std::string shown(const std::string& rel) const { return rel.empty() ? "/" : "/" + rel; }

  tl::unexpected<Error> fail(int err, std::string_view action, const std::string& rel) const {
    return errno_error(err,
                       fmt::format("copy image content into volume {}: {} {}", volume_, action, shown(rel)));
  }

  Status copy_entry(int src_dir, int dst_dir, const std::string& name, const std::string& rel) {
    struct stat st {};
    if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return fail(errno, "stat", rel);
    const char* n = name.c_str();
    switch (st.st_mode & S_IFMT) {
      case S_IFDIR: {
        UniqueFd src(::openat(src_dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!src) return fail(errno, "open", rel);
        if (::mkdirat(dst_dir, n, 0700) != 0) return fail(errno, "create", rel);
        UniqueFd dst(::openat(dst_dir, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!dst) return fail(errno, "open", rel);
        ZL_TRY(copy_dir(src.get(), dst.get(), rel));
        return copy_attrs(src.get(), dst.get(), st, rel);  // times last: the copy changed them
      }
      case S_IFREG: {
        if (st.st_nlink > 1) {  // a hard link to a file copied before stays a link
          auto seen = links_.find({st.st_dev, st.st_ino});
          if (seen != links_.end()) {
            if (::linkat(dst_root_, seen->second.c_str(), dst_dir, n, 0) != 0)
              return fail(errno, "link", rel);
            return {};
          }
          links_[{st.st_dev, st.st_ino}] = rel;
        }
        UniqueFd src(::openat(src_dir, n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!src) return fail(errno, "open", rel);
        UniqueFd dst(::openat(dst_dir, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!dst) return fail(errno, "create", rel);
        ZL_TRY(copy_data(src.get(), dst.get(), rel));
        return copy_attrs(src.get(), dst.get(), st, rel);
      }
      case S_IFLNK: {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t len = ::readlinkat(src_dir, n, target.data(), target.size());
        if (len < 0) return fail(errno, "read the link", rel);
        target.resize(static_cast<size_t>(len));
        if (::symlinkat(target.c_str(), dst_dir, n) != 0) return fail(errno, "create the link", rel);
        return special_attrs(dst_dir, n, st, rel);
      }
      default:  // devices, fifos, sockets: made anew, never opened
        if (::mknodat(dst_dir, n, st.st_mode & (S_IFMT | 07777), st.st_rdev) != 0)
          return fail(errno, "create", rel);
        if (::fchmodat(dst_dir, n, st.st_mode & 07777, 0) != 0) return fail(errno, "set the mode of", rel);
        return special_attrs(dst_dir, n, st, rel);
    }
  }

  // Owner and times of what is not opened (symlinks, devices, fifos).
  Status special_attrs(int dst_dir, const char* name, const struct stat& st, const std::string& rel) {
    if (::fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0)
      return fail(errno, "set the owner of", rel);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
      if (::fchmodat(dst_dir, name, st.st_mode & 07777, 0) != 0) return fail(errno, "set the mode of", rel);
    }
    timespec times[2] = {st.st_atim, st.st_mtim};
    if (::utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) != 0)
      return fail(errno, "set the times of", rel);
    return {};
  }

  Status copy_data(int src, int dst, const std::string& rel) {
    bool range = true;  // copy_file_range where the kernel can; read/write where it cannot
    std::vector<char> buf;
    while (true) {
      if (range) {
        ssize_t n = ::copy_file_range(src, nullptr, dst, nullptr, size_t{1} << 30, 0);
        if (n > 0) continue;
        if (n == 0) return {};
        if (errno == EINTR) continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP && errno != EPERM)
          return fail(errno, "copy", rel);
        range = false;
        buf.resize(1 << 20);
      }
      ssize_t n = ::read(src, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno, "read", rel);
      if (n == 0) return {};
      ZL_TRY(write_all(dst, std::string_view(buf.data(), static_cast<size_t>(n)), "copy " + shown(rel)));
    }
  }

  // Extended attributes where the target filesystem takes them; one it refuses is left out.
  void copy_xattrs(int src, int dst, const std::string& rel) {
    ssize_t len = ::flistxattr(src, nullptr, 0);
    if (len <= 0) return;
    std::string names(static_cast<size_t>(len), '\0');
    len = ::flistxattr(src, names.data(), names.size());
    if (len <= 0) return;
    names.resize(static_cast<size_t>(len));
    for (size_t pos = 0; pos < names.size();) {
      std::string key = names.c_str() + pos;
      pos += key.size() + 1;
      ssize_t vlen = ::fgetxattr(src, key.c_str(), nullptr, 0);
      if (vlen < 0) continue;
      std::string value(static_cast<size_t>(vlen), '\0');
      vlen = ::fgetxattr(src, key.c_str(), value.data(), value.size());
      if (vlen < 0) continue;
      if (::fsetxattr(dst, key.c_str(), value.data(), static_cast<size_t>(vlen), 0) != 0)
        spdlog::debug("volume={} copy-up: xattr {} of {} not copied: {}", volume_, key, shown(rel),
                      strerror(errno));
    }
  }

  int dst_root_;
  std::string volume_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;  // first copy of a hard-linked file
};

// Opens `path` as the container sees it: symlinks resolved inside `root`. -1 with errno set.
int open_in_root(const fs::path& root, const std::string& path) {
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return -1;
  std::string rel = path;
  while (!rel.empty() && rel.front() == '/') rel.erase(rel.begin());
  if (rel.empty()) rel = ".";
  open_how how{};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return static_cast<int>(::syscall(SYS_openat2, root_fd.get(), rel.c_str(), &how, sizeof how));
}

// Removes what was copied into a volume when the copy fails: it is left empty, as it was.
void empty_dir(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) (void)remove_tree(e.path());
}

class EmptyOnFailure {
 public:
  explicit EmptyOnFailure(fs::path dir) : dir_(std::move(dir)) {}
  EmptyOnFailure(const EmptyOnFailure&) = delete;
  EmptyOnFailure& operator=(const EmptyOnFailure&) = delete;
  ~EmptyOnFailure() {
    if (!dir_.empty()) empty_dir(dir_);
  }
  void commit() { dir_.clear(); }

 private:
  fs::path dir_;
};

}  // namespace

Status validate_volume_name(const std::string& name) {
  auto ok_first = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  auto ok_rest = [&](char c) { return ok_first(c) || c == '_' || c == '.' || c == '-'; };
  if (name.size() >= 2 && name.size() <= 128 && ok_first(name[0]) &&
      std::all_of(name.begin() + 1, name.end(), ok_rest))
    return {};
  if (name.size() > 128)
    return invalid_argument("invalid volume name \"{}\": longer than 128 characters", name);
  return invalid_argument(
      "invalid volume name \"{}\": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ is allowed (to mount a host directory, "
      "give "
      "its absolute path)",
      name);
}

std::string new_volume_name() {
  return random_hex_id();
}

VolumeStore::VolumeStore(fs::path volumes_dir) : dir_(std::move(volumes_dir)) {}

Result<FileLock> VolumeStore::lock() const {
  ZL_TRY(make_dirs(dir_, 0700));
  ZL_TRY_ASSIGN(auto lock, FileLock::acquire(dir_ / ".lock"));
  // With the lock held nothing is half done: what a crash left behind goes.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string n = e.path().filename().string();
    if (n.starts_with(".tmp-") || n.starts_with(".removing-")) (void)remove_tree(e.path());
  }
  return lock;
}

Result<VolumeInfo> VolumeStore::load(const std::string& name) const {
  if (!validate_volume_name(name)) return not_found("no such volume: {}", name);
  auto text = read_file(dir_ / name / kMetadataFile);
  if (!text && text.error().kind == ErrorKind::not_found) return not_found("no such volume: {}", name);
  if (!text) return tl::unexpected(text.error());
  try {
    json j = json::parse(*text);
    VolumeInfo v;
    v.name = j.at("name").get<std::string>();
    v.driver = j.value("driver", "local");
    v.created_at = j.value("created_at", int64_t{0});
    v.labels = j.value("labels", std::map<std::string, std::string>{});
    v.options = j.value("options", std::map<std::string, std::string>{});
    v.mountpoint = data_dir(name);
    if (v.name != name) return corrupt("volume {}: volume.json names another volume ({})", name, v.name);
    return v;
  } catch (const json::exception& e) {
    return corrupt("volume {}: volume.json is damaged: {}", name, e.what());
  }
}

Result<VolumeInfo> VolumeStore::create(const std::string& name, const VolumeCreateOptions& opts) const {
  ZL_TRY(validate_volume_name(name));
  ZL_TRY_ASSIGN(auto lock, this->lock());
  return create_locked(name, opts);
}

Result<VolumeInfo> VolumeStore::create_locked(const std::string& name, const VolumeCreateOptions& opts,
                                              bool* created) const {
  ZL_TRY(validate_volume_name(name));
  if (created) *created = false;
  auto existing = load(name);
  if (existing || existing.error().kind != ErrorKind::not_found) return existing;

  // Built aside and renamed into place: a volume is there whole or not at all.
  ZL_TRY_ASSIGN(auto tmp, TempDir::create(dir_, ".tmp-"));
  VolumeInfo v{.name = name, .created_at = now_ns(), .labels = opts.labels, .options = opts.options};
  if (::mkdir((tmp.path() / "_data").c_str(), 0755) != 0 ||
      ::chmod((tmp.path() / "_data").c_str(), 0755) != 0)
    return errno_error(errno, "create volume " + name);
  json j = {{"name", v.name},
            {"driver", v.driver},
            {"created_at", v.created_at},
            {"labels", v.labels},
            {"options", v.options}};
  ZL_TRY(write_file_atomic(tmp.path() / kMetadataFile, j.dump(2), 0600));
  ZL_TRY(tmp.commit_as(volume_dir(name)).map_error([&](Error e) {
    return std::move(e).wrap("create volume " + name);
  }));
  v.mountpoint = data_dir(name);
  if (created) *created = true;
  return v;
}

Result<VolumeInfo> VolumeStore::inspect(const std::string& name) const {
  return load(name);
}

Result<std::vector<VolumeInfo>> VolumeStore::list() const {
  std::vector<VolumeInfo> out;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return out;  // no volume was ever created here
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string n = e.path().filename().string();
    if (n.starts_with(".")) continue;  // the lock, and creations and removals in flight
    auto v = load(n);
    if (v) {
      out.push_back(std::move(*v));
    } else if (v.error().kind != ErrorKind::not_found) {  // removed meanwhile: skip quietly
      spdlog::warn("{}", v.error().message);
    }
  }
  if (ec) return io("list volumes in {}: {}", dir_.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status VolumeStore::remove_locked(const std::string& name) const {
  fs::path trash = dir_ / (".removing-" + name);
  if (::rename(volume_dir(name).c_str(), trash.c_str()) != 0)
    return errno_error(errno, "remove volume " + name);
  return remove_tree(trash);
}

namespace {

std::string users_text(const std::vector<std::string>& users) {
  std::string out = users.size() == 1 ? "container " : "containers ";
  for (size_t i = 0; i < users.size(); ++i) out += (i ? ", " : "") + users[i];
  return out;
}

}  // namespace

Status VolumeStore::remove(const std::string& name, bool force, const Usage& usage) const {
  auto missing = [&]() -> Status {
    if (force) return {};
    return not_found("no such volume: {}", name);
  };
  if (!validate_volume_name(name)) return missing();
  ZL_TRY_ASSIGN(auto lock, this->lock());
  auto v = load(name);
  if (!v && v.error().kind == ErrorKind::not_found) return missing();
  if (!v && !fs::exists(volume_dir(name))) return missing();
  // A damaged volume.json does not keep the volume from going.
  ZL_TRY_ASSIGN(auto users, usage());
  if (auto it = users.find(name); it != users.end() && !it->second.empty())
    return conflict("cannot remove volume {}: it is in use by {}", name, users_text(it->second));
  return remove_locked(name);
}

Result<VolumePruneReport> VolumeStore::prune(const Usage& usage) const {
  ZL_TRY_ASSIGN(auto lock, this->lock());
  ZL_TRY_ASSIGN(auto users, usage());
  ZL_TRY_ASSIGN(auto all, list());
  VolumePruneReport report;
  for (const auto& v : all) {
    if (auto it = users.find(v.name); it != users.end() && !it->second.empty()) continue;
    uint64_t size = tree_size(volume_dir(v.name));
    ZL_TRY(remove_locked(v.name));
    report.removed.push_back(v.name);
    report.bytes_freed += size;
  }
  return report;
}

Result<bool> VolumeStore::copy_up_locked(const std::string& name, const fs::path& rootfs,
                                         const std::string& path) const {
  fs::path data = data_dir(name);
  // A copy that a crash cut short left its marker: what it copied goes, the copy starts over.
  fs::path marker = volume_dir(name) / kCopyingMarker;
  std::error_code ec;
  if (fs::exists(marker, ec)) {
    spdlog::info("volume={}: its copy-up was interrupted; copying again", name);
    empty_dir(data);
  }
  UniqueFd dst(::open(data.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dst) return errno_error(errno, "open volume " + name);
  ZL_TRY_ASSIGN(auto present, dir_names(dst.get(), "read volume " + name));
  if (!present.empty()) return false;  // only an empty volume takes the image's content

  UniqueFd src(open_in_root(rootfs, path));
  if (!src) {
    // Nothing there (or not a directory) in the image: nothing to copy. ENOSYS: a kernel before
    // 5.6 cannot resolve paths safely inside the rootfs; such a volume starts empty.
    if (errno == ENOENT || errno == ENOTDIR || errno == ENOSYS || errno == EXDEV) return false;
    return errno_error(errno, fmt::format("open {} in the image to copy it into volume {}", path, name));
  }
  struct stat st {};
  if (::fstat(src.get(), &st) != 0) {
    return errno_error(errno, fmt::format("stat {} in the image to copy it into volume {}", path, name));
  }

  EmptyOnFailure guard(data);
  ZL_TRY(write_file_atomic(marker, path + "\n", 0600));  // durable before the first byte is copied
  TreeCopier copier(dst.get(), name);
  ZL_TRY(copier.copy_dir(src.get(), dst.get(), ""));
  ZL_TRY(copier.copy_attrs(src.get(), dst.get(), st, ""));
  if (auto synced = fsync_dir(data); !synced) return tl::unexpected(synced.error().wrap("volume " + name));
  if (::syncfs(dst.get()) != 0) return errno_error(errno, "sync volume " + name);  // the copied files too
  guard.commit();
  if (::unlink(marker.c_str()) != 0) return errno_error(errno, "copy up into volume " + name);
  ZL_TRY(fsync_dir(volume_dir(name)));
  spdlog::debug("volume={} copied up from {}", name, path);
  return true;
}

}  // namespace zl
