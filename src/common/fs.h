// Filesystem helpers every subsystem shares: owned fds, atomic state writes,
// self-removing temp dirs, advisory locks. All return Result/Status, never throw.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace zl {

namespace fs = std::filesystem;

// An owned file descriptor, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Both ends of a pipe2(O_CLOEXEC).
struct Pipe {
  UniqueFd r, w;
  static Result<Pipe> make();
};

// A stream of bytes passed piece by piece: a ReadFn fills buf with up to n bytes and returns
// how many (0 at the end); a WriteFn takes a piece whole.
using ReadFn = std::function<Result<size_t>(char* buf, size_t n)>;
using WriteFn = std::function<Status(std::string_view data)>;

// Writes all of data to fd, retrying on EINTR and short writes.
Status write_all(int fd, std::string_view data, std::string_view what);

// How far an atomic write goes. `durable`: the new content also survives a crash (the file and
// then its directory are fsynced). `atomic`: readers see the old content or the new, never a
// mix, but a crash may lose it: for scratch that does not outlive a crash anyway (the bundle of
// a container that is removed when it exits), where the fsyncs would only cost time.
enum class Sync { durable, atomic };

// A file that replaces `dest` atomically: written through fd() into a temp file beside dest,
// then (fsynced and) renamed over it by commit(). Removed on destruction unless committed.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const fs::path& dest, mode_t mode = 0644);
  AtomicFile(AtomicFile&& o) noexcept
      : dest_(std::move(o.dest_)), tmp_(std::exchange(o.tmp_, {})), fd_(std::move(o.fd_)) {}
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_.get(); }
  const fs::path& temp_path() const { return tmp_; }
  Status commit(Sync sync = Sync::durable);

 private:
  AtomicFile(fs::path dest, fs::path tmp, UniqueFd fd) : dest_(std::move(dest)), tmp_(std::move(tmp)), fd_(std::move(fd)) {}
  fs::path dest_, tmp_;
  UniqueFd fd_;
};

// Writes `data` to `path` atomically: temp file in the same dir, fsync, rename, fsync dir.
// Readers see either the old content or the new, never a mix; a crash leaves no partial file
// (with Sync::atomic: no fsyncs, and a crash may leave the old content, none or an empty file).
Status write_file_atomic(const fs::path& path, std::string_view data, mode_t mode = 0644,
                         Sync sync = Sync::durable);

Result<std::string> read_file(const fs::path& path);

// mkdir -p with the given mode for created directories.
Status make_dirs(const fs::path& path, mode_t mode = 0755);

// rm -rf that does not follow symlinks; missing path is success.
Status remove_tree(const fs::path& path);

Status fsync_dir(const fs::path& dir);

// Total bytes of regular files under path (apparent size, no symlink following).
uint64_t tree_size(const fs::path& path);

// A directory that is removed on destruction unless commit_as() moved it into place.
class TempDir {
 public:
  // Creates a fresh directory "<parent>/<prefix>XXXXXX".
  static Result<TempDir> create(const fs::path& parent, std::string_view prefix = "tmp-");
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();

  const fs::path& path() const { return path_; }
  // Renames the directory to `dest` (atomic). If dest already exists, returns already_exists
  // and the temp dir is still removed on destruction.
  Status commit_as(const fs::path& dest);
  // Gives up ownership: the directory stays.
  fs::path release();

 private:
  explicit TempDir(fs::path p) : path_(std::move(p)) {}
  fs::path path_;
};

// An exclusive or shared flock(2) on a lock file, released on destruction.
class FileLock {
 public:
  enum class Mode { shared, exclusive };
  static Result<FileLock> acquire(const fs::path& lock_file, Mode mode = Mode::exclusive);
  FileLock(FileLock&&) = default;
  FileLock& operator=(FileLock&&) = default;

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace zl
