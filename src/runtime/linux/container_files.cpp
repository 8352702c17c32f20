// Reads a container's config.json cgroup path and finds its conmon by pid file + /proc.
#include "runtime/linux/container_files.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <nlohmann/json.hpp>

namespace zl {

namespace {

// Alive (not a zombie) and a conmon of this container.
bool is_our_conmon(pid_t pid, const ContainerPaths& paths) {
  if (!live_proc_stat(pid)) return false;
  auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (!cmdline) return false;
  std::string_view argv0(cmdline->c_str());
  bool conmon = argv0 == "conmon" || argv0.ends_with("/conmon");
  std::string exit_dir_arg = std::string(1, '\0') + paths.exit_dir().string() + std::string(1, '\0');
  return conmon && cmdline->find(exit_dir_arg) != std::string::npos;
}

}  // namespace

std::optional<std::vector<std::string>> live_proc_stat(pid_t pid) {
  auto stat = read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) return std::nullopt;
  auto close = stat->rfind(')');  // the end of the command name, which may hold spaces
  if (close == std::string::npos || close + 2 >= stat->size()) return std::nullopt;
  std::vector<std::string> fields;
  std::string_view rest = std::string_view(*stat).substr(close + 2);
  while (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  for (size_t space; (space = rest.find(' ')) != std::string_view::npos; rest.remove_prefix(space + 1))
    fields.emplace_back(rest.substr(0, space));
  fields.emplace_back(rest);
  if (fields[0] == "Z" || fields[0] == "X") return std::nullopt;
  return fields;
}

std::optional<pid_t> read_pid_file(const fs::path& file) {
  auto text = read_file(file);
  if (!text) return std::nullopt;
  pid_t pid = 0;
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), pid);
  if (ec != std::errc() || pid <= 1) return std::nullopt;
  return pid;
}

Result<std::string> container_cgroups_path(const ContainerPaths& paths) {
  ZL_TRY_ASSIGN(auto text, read_file(paths.config()));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return corrupt("{} is not JSON", paths.config().string());
  auto lx = j.find("linux");
  if (lx == j.end() || !lx->is_object() || !lx->contains("cgroupsPath") || !(*lx)["cgroupsPath"].is_string())
    return invalid_argument("{} sets no linux.cgroupsPath", paths.config().string());
  return (*lx)["cgroupsPath"].get<std::string>();
}

UniqueFd open_conmon_pidfd(const ContainerPaths& paths) {
  auto pid = read_pid_file(paths.conmon_pidfile());
  if (!pid) return {};
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  if (!fd || !is_our_conmon(*pid, paths)) return {};
  return fd;
}

Status wait_for_monitor_exit(const ContainerPaths& paths, std::chrono::milliseconds timeout) {
  UniqueFd pidfd = open_conmon_pidfd(paths);
  if (!pidfd) return {};
  pollfd p{pidfd.get(), POLLIN, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc > 0) return {};
  // Still there: it is ours (checked above) and has nothing left to monitor.
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH)
    return errno_error(errno, "kill conmon");
  return {};
}

}  // namespace zl
