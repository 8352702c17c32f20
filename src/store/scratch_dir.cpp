// ScratchDir: items are created under a shared "gate" lock and locked before the gate is
// released; clean() takes the gate exclusively, so it never sees an item not yet locked.
#include "store/scratch_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace zl {
namespace {

Status lock_now(int fd, const fs::path& what) {
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return errno_error(errno, "lock " + what.string());
  return {};
}

// True when the item was removed, false when a live process holds it.
Result<bool> remove_if_unlocked(const fs::path& item) {
  UniqueFd fd(::open(item.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    return errno_error(errno, "lock " + item.string());
  }
  ZL_TRY(remove_tree(item));  // held locked (or not lockable: a stray symlink/socket)
  return true;
}

}  // namespace

Status ScratchDir::init() const {
  ZL_TRY(make_dirs(dir_));
  ZL_TRY_ASSIGN(auto gate_lock, FileLock::acquire(gate(), FileLock::Mode::exclusive));
  std::error_code ec;
  std::vector<fs::path> items;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().filename() != gate().filename()) items.push_back(e.path());
  }
  if (ec) return io("list {}: {}", dir_.string(), ec.message());
  for (const auto& item : items) {
    auto removed = remove_if_unlocked(item);
    if (!removed) return tl::unexpected(std::move(removed).error().wrap("clean stale work"));
  }
  return {};
}

Result<std::pair<fs::path, UniqueFd>> ScratchDir::create_file(std::string_view prefix) const {
  ZL_TRY(make_dirs(dir_));
  ZL_TRY_ASSIGN(auto gate_lock, FileLock::acquire(gate(), FileLock::Mode::shared));
  std::string tmpl = (dir_ / (std::string(prefix) + "XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  UniqueFd fd(::mkostemp(buf.data(), O_CLOEXEC));
  if (!fd) return errno_error(errno, "create temp file in " + dir_.string());
  fs::path path(buf.data());
  if (auto st = lock_now(fd.get(), path); !st) {
    ::unlink(path.c_str());
    return tl::unexpected(st.error());
  }
  return std::pair{std::move(path), std::move(fd)};
}

Result<LockedTempDir> ScratchDir::create_dir(std::string_view prefix) const {
  ZL_TRY(make_dirs(dir_));
  ZL_TRY_ASSIGN(auto gate_lock, FileLock::acquire(gate(), FileLock::Mode::shared));
  ZL_TRY_ASSIGN(auto dir, TempDir::create(dir_, prefix));
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno_error(errno, "open " + dir.path().string());
  ZL_TRY(lock_now(fd.get(), dir.path()));
  return LockedTempDir{std::move(fd), std::move(dir)};
}

}  // namespace zl
