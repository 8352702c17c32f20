// Keeps one old generation of a conmon log by hard links (see log_rotation.h for the scheme).
#include "runtime/linux/log_rotation.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace zl {

namespace {

fs::path sibling(const fs::path& log, const char* suffix) {
  return fs::path(log.string() + suffix);
}

struct Ident {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
};

std::optional<Ident> ident(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::nullopt;
  return Ident{st.st_dev, st.st_ino, st.st_size};
}

bool same(const std::optional<Ident>& a, const std::optional<Ident>& b) {
  return a && b && a->dev == b->dev && a->ino == b->ino;
}

// link(target, dest) that replaces dest atomically (via a temp name and rename).
Status link_replacing(const fs::path& target, const fs::path& dest) {
  fs::path tmp = sibling(dest, ".tmp");
  ::unlink(tmp.c_str());
  if (::link(target.c_str(), tmp.c_str()) != 0)
    return errno_error(errno, fmt::format("link {} to {}", target.string(), tmp.string()));
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return errno_error(err, fmt::format("rename {} to {}", tmp.string(), dest.string()));
  }
  return {};
}

Status create_empty(const fs::path& p) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
  if (!fd) return errno_error(errno, fmt::format("create {}", p.string()));
  return {};
}

}  // namespace

fs::path previous_log_path(const fs::path& log) {
  return sibling(log, ".1");
}
fs::path kept_log_path(const fs::path& log) {
  return sibling(log, ".keep");
}

Status prepare_log(const fs::path& log, uint64_t size_max) {
  ZL_TRY_ASSIGN(auto lock, FileLock::acquire(sibling(log, ".lock")));
  auto cur = ident(log);
  if (cur && size_max > 0 && static_cast<uint64_t>(cur->size) >= size_max) {
    if (::rename(log.c_str(), previous_log_path(log).c_str()) != 0)
      return errno_error(errno, fmt::format("rotate {}", log.string()));
    cur.reset();
  }
  if (!cur) ZL_TRY(create_empty(log));
  return link_replacing(log, kept_log_path(log));
}

Status settle_log_rotation(const fs::path& log) {
  ZL_TRY_ASSIGN(auto lock, FileLock::acquire(sibling(log, ".lock")));
  auto cur = ident(log);
  if (!cur) return {};  // no log (yet, or any more)
  auto kept = ident(kept_log_path(log));
  if (same(cur, kept)) return {};
  if (kept && ::rename(kept_log_path(log).c_str(), previous_log_path(log).c_str()) != 0)
    return errno_error(errno, fmt::format("rotate {}", kept_log_path(log).string()));
  return link_replacing(log, kept_log_path(log));
}

std::vector<LogFile> open_log_generations(const fs::path& log) {
  std::vector<LogFile> files;
  for (const fs::path& p : {previous_log_path(log), kept_log_path(log), log}) {
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) continue;
    std::erase_if(files, [&](const LogFile& f) { return f.dev == st.st_dev && f.ino == st.st_ino; });
    files.push_back(LogFile{p, std::move(fd), st.st_dev, st.st_ino});
  }
  return files;
}

}  // namespace zl
