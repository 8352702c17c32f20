// A container's end as conmon records it: reading the exit file and oom marker (with our own OOM
// check of the cgroup where conmon missed it), waiting for it, conmon's liveness.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/container_files.h"

namespace zl {

namespace {

using Clock = std::chrono::steady_clock;

bool file_exists(const fs::path& p) {
  return ::access(p.c_str(), F_OK) == 0;
}

// conmon's v1 OOM notice (an eventfd on memory.oom_control) races with the container's exit in
// its event loop and can be lost. The cgroup's own counter is still there until `delete`: when
// it shows a kill, leave the marker conmon would have left, so the answer survives the cgroup.
bool oom_marker(const ContainerPaths& paths, int status) {
  fs::path marker = paths.persist_dir() / "oom";
  if (file_exists(marker)) return true;
  if (status != 128 + 9) return false;
  auto cgroup = container_cgroups_path(paths);
  if (!cgroup) return false;
  auto kills = read_cgroup_oom_kills(*cgroup);
  if (!kills || *kills == 0) return false;
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  return true;
}

// The exit file, if conmon wrote it.
Result<std::optional<ExitInfo>> recorded_exit(const std::string& id, const ContainerPaths& paths) {
  fs::path file = paths.exit_dir() / id;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<ExitInfo>();
    return errno_error(errno, "stat " + file.string());
  }
  ZL_TRY_ASSIGN(auto text, read_file(file));
  int status = std::atoi(text.c_str());
  int64_t finished = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto info = parse_exit_file(text, oom_marker(paths, status), finished);
  if (!info) return tl::unexpected(info.error().wrap("exit of container " + id));
  return std::optional<ExitInfo>(std::move(*info));
}

Result<UniqueFd> watch_exit_dir(const ContainerPaths& paths) {
  UniqueFd fd(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!fd) return errno_error(errno, "inotify_init1");
  // conmon writes the file under a temp name and renames it into place.
  if (::inotify_add_watch(fd.get(), paths.exit_dir().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0)
    return errno_error(errno, "watch " + paths.exit_dir().string());
  return fd;
}

}  // namespace

bool ConmonRuntime::monitor_alive(const ContainerPaths& paths) const {
  return static_cast<bool>(open_conmon_pidfd(paths));
}

Result<std::optional<ExitInfo>> ConmonRuntime::exit_info(const std::string& id,
                                                         const ContainerPaths& paths) const {
  ZL_TRY_ASSIGN(auto info, recorded_exit(id, paths));
  if (info || !file_exists(paths.conmon_pidfile()) || monitor_alive(paths)) return info;
  // conmon is gone. It writes the exit file before it leaves: look once more, then it is lost.
  ZL_TRY_ASSIGN(info, recorded_exit(id, paths));
  if (info) return info;
  ExitInfo lost;
  lost.exit_code = -1;
  lost.reason = ExitInfo::Reason::runtime_error;
  lost.message = "conmon exited without recording the container's exit status";
  lost.finished_at_unix_nano = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
  return std::optional<ExitInfo>(std::move(lost));
}

Result<std::optional<ExitInfo>> ConmonRuntime::wait(const std::string& id, const ContainerPaths& paths,
                                                    std::optional<std::chrono::milliseconds> timeout) const {
  // conmon writes the exit file, then leaves: its pidfd is all there is to wait on. Only without
  // a conmon to watch does inotify on the exit dir stand in (not always, because closing a watch
  // waits for an RCU grace period: ~15 ms on every wait).
  UniqueFd conmon = open_conmon_pidfd(paths);
  UniqueFd inotify;
  auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  for (;;) {
    ZL_TRY_ASSIGN(auto info, exit_info(id, paths));
    if (info) return info;
    if (!conmon && !inotify) {
      ZL_TRY_ASSIGN(inotify, watch_exit_dir(paths));
      continue;  // look again now that the watch is set: no exit slips by
    }
    int wait_ms = -1;
    if (timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return std::optional<ExitInfo>();
      wait_ms = static_cast<int>(std::min<int64_t>(left, INT_MAX));
    }
    pollfd p{conmon ? conmon.get() : inotify.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, wait_ms);
    if (rc < 0 && errno != EINTR) return errno_error(errno, "wait for container " + id);
    if (rc <= 0) continue;
    if (conmon) {
      conmon.reset();  // gone: its exit file is there now, or it died without one
    } else {
      char buf[4096];
      while (::read(inotify.get(), buf, sizeof buf) > 0) {
      }
    }
  }
}

}  // namespace zl
