#include "common/fs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

namespace zl {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<Pipe> Pipe::make() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error(errno, "create pipe");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Status write_all(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, fmt::format("write {}", what));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status fsync_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error(errno, fmt::format("open directory {}", dir.string()));
  if (::fsync(fd.get()) != 0) return errno_error(errno, fmt::format("fsync {}", dir.string()));
  return {};
}

Result<AtomicFile> AtomicFile::create(const fs::path& dest, mode_t mode) {
  fs::path dir = dest.parent_path().empty() ? fs::path(".") : dest.parent_path();
  std::string tmpl = (dir / ("." + dest.filename().string() + ".tmp-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  UniqueFd fd(::mkostemp(buf.data(), O_CLOEXEC));
  if (!fd) return errno_error(errno, fmt::format("create temp file for {}", dest.string()));
  if (::fchmod(fd.get(), mode) != 0) {
    int err = errno;
    ::unlink(buf.data());
    return errno_error(err, fmt::format("chmod temp file for {}", dest.string()));
  }
  return AtomicFile(dest, fs::path(buf.data()), std::move(fd));
}

AtomicFile::~AtomicFile() {
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Status AtomicFile::commit(Sync sync) {
  if (sync == Sync::durable && ::fsync(fd_.get()) != 0)
    return errno_error(errno, fmt::format("fsync {}", tmp_.string()));
  fd_.reset();
  if (::rename(tmp_.c_str(), dest_.c_str()) != 0)
    return errno_error(errno, fmt::format("rename {} to {}", tmp_.string(), dest_.string()));
  tmp_.clear();
  if (sync == Sync::atomic) return {};
  return fsync_dir(dest_.parent_path().empty() ? fs::path(".") : dest_.parent_path());
}

Status write_file_atomic(const fs::path& path, std::string_view data, mode_t mode, Sync sync) {
  ZL_TRY_ASSIGN(auto file, AtomicFile::create(path, mode));
  ZL_TRY(write_all(file.fd(), data, path.string()));
  return file.commit(sync);
}

Result<std::string> read_file(const fs::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno_error(errno, fmt::format("open {}", path.string()));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, fmt::format("read {}", path.string()));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status make_dirs(const fs::path& path, mode_t mode) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return {};
  if (path.has_parent_path() && path.parent_path() != path) {
    ZL_TRY(make_dirs(path.parent_path(), mode));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return errno_error(errno, fmt::format("create directory {}", path.string()));
  return {};
}

Status remove_tree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return io("remove {}: {}", path.string(), ec.message());
  return {};
}

uint64_t tree_size(const fs::path& path) {
  std::error_code ec;
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

Result<TempDir> TempDir::create(const fs::path& parent, std::string_view prefix) {
  ZL_TRY(make_dirs(parent));
  std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    return errno_error(errno, fmt::format("create temp directory in {}", parent.string()));
  return TempDir(fs::path(buf.data()));
}

TempDir::~TempDir() {
  if (!path_.empty()) (void)remove_tree(path_);
}

Status TempDir::commit_as(const fs::path& dest) {
  if (::rename(path_.c_str(), dest.c_str()) != 0) {
    int err = errno;
    if (err == ENOTEMPTY || err == EEXIST) return already_exists("{} already exists", dest.string());
    return errno_error(err, fmt::format("rename {} to {}", path_.string(), dest.string()));
  }
  path_.clear();
  return fsync_dir(dest.parent_path());
}

fs::path TempDir::release() {
  fs::path p = std::move(path_);
  path_.clear();
  return p;
}

Result<FileLock> FileLock::acquire(const fs::path& lock_file, Mode mode) {
  UniqueFd fd(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return errno_error(errno, fmt::format("open lock {}", lock_file.string()));
  int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
  while (::flock(fd.get(), op) != 0) {
    if (errno != EINTR) return errno_error(errno, fmt::format("lock {}", lock_file.string()));
  }
  return FileLock(std::move(fd));
}

}  // namespace zl
