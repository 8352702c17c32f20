// Creating a container through conmon: prepare its dir, start conmon with a sync pipe, and wait
// for the container's pid (or the runtime's error) on that pipe.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "runtime/linux/conmon_protocol.h"
#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/log_rotation.h"
#include "runtime/linux/runtime_message.h"

extern char** environ;

namespace zl {

namespace {

constexpr auto kCreateTimeout = std::chrono::seconds(60);
constexpr int kSyncFd = 3;  // the number conmon finds its sync pipe at (_OCI_SYNCPIPE)

Status check_id(const std::string& id) {
  if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
    return invalid_argument("container id \"{}\" is not a valid name", id);
  return {};
}

// Our environment for conmon (and through it the runtime), without what would confuse them.
std::vector<std::string> conmon_env() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("_OCI_") || kv.starts_with("NOTIFY_SOCKET=") || kv.starts_with("LISTEN_")) continue;
    env.emplace_back(kv);
  }
  env.push_back(fmt::format("_OCI_SYNCPIPE={}", kSyncFd));
  return env;
}

Status prepare_dirs(const std::string& id, const ContainerPaths& paths, const CreateOptions& opts) {
  if (::access(paths.config().c_str(), R_OK) != 0)
    return invalid_argument("create container {}: no bundle at {}", id, paths.bundle().string());
  if (paths.log().string().find(':') != std::string::npos)
    return invalid_argument("create container {}: log path {} must not contain ':'", id,
                            paths.log().string());
  for (const auto& d : {paths.exit_dir(), paths.persist_dir()}) ZL_TRY(make_dirs(d, 0700));
  // Leftovers of an earlier run in the same dir would read as this run's exit.
  for (const auto& f : {paths.exit_dir() / id, paths.persist_dir() / "oom", paths.persist_dir() / "exit",
                        paths.pidfile(), paths.conmon_pidfile()}) {
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) return errno_error(errno, "remove " + f.string());
  }
  return prepare_log(paths.log(), opts.log_size_max);
}

// Reads one line (or up to EOF) from fd within the timeout; nullopt on timeout.
Result<std::optional<std::string>> read_line(int fd, std::chrono::milliseconds timeout) {
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<std::string>();
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return errno_error(errno, "poll conmon sync pipe");
    if (rc == 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "read conmon sync pipe");
    if (n == 0) return std::optional<std::string>(std::move(data));
    data.append(buf, static_cast<size_t>(n));
    if (auto nl = data.find('\n'); nl != std::string::npos)
      return std::optional<std::string>(data.substr(0, nl));
  }
}

std::string read_available(int fd) {
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, 1000) > 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// A conmon that never answered: stop it and whatever the runtime made.
void abandon(const OciCli& cli, const std::string& id, const ContainerPaths& paths) {
  if (auto text = read_file(paths.conmon_pidfile())) {
    int pid = 0;
    std::from_chars(text->data(), text->data() + text->size(), pid);
    if (pid > 1) ::kill(pid, SIGKILL);
  }
  (void)cli.run("delete", id, {"delete", "--force", id});
}

}  // namespace

Status ConmonRuntime::create(const std::string& id, const ContainerPaths& paths, const CreateOptions& opts) {
  ZL_TRY(check_id(id));
  ZL_TRY(prepare_dirs(id, paths, opts));
  std::string conmon = find_program("conmon");
  if (conmon.empty()) return not_found("create container {}: conmon is not installed", id);

  int sync[2], err[2];
  if (::pipe2(sync, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return errno_error(errno, "create pipe");
  UniqueFd sync_r(sync[0]), sync_w(sync[1]), err_r(err[0]), err_w(err[1]);

  SpawnOptions so;
  so.env = conmon_env();
  so.cwd = paths.persist_dir().string();  // conmon also drops its "oom" marker in its cwd
  so.stdout_fd = so.stderr_fd = err_w.get();
  so.extra_fds = {{sync_w.get(), kSyncFd}};
  ZL_TRY_ASSIGN(auto launcher, Child::spawn(conmon_argv(conmon, cli_, id, paths, opts), so));
  sync_w.reset();
  err_w.reset();
  // The launcher forks the monitor (which daemonizes) and exits at once.
  ZL_TRY_ASSIGN(auto launched, launcher.wait());
  ZL_TRY_ASSIGN(auto line, read_line(sync_r.get(), kCreateTimeout));
  if (!line) {
    abandon(cli_, id, paths);
    return unavailable("create container {}: conmon did not report within {} s", id, kCreateTimeout.count());
  }
  std::string conmon_err = clean_runtime_message(read_available(err_r.get()));
  if (line->empty()) {
    std::string why =
        !conmon_err.empty() ? conmon_err : fmt::format("conmon exited with code {}", launched.code());
    return internal("create container {}: {}", id, why);
  }
  ZL_TRY_ASSIGN(auto msg, parse_sync_message(*line));
  if (msg.data > 0) return {};
  std::string why = clean_runtime_message(msg.message);
  if (why.empty()) why = "the runtime failed without a message";
  ErrorKind kind = exec_start_failure_code(why) ? ErrorKind::invalid_argument : runtime_error_kind(why);
  return make_error(kind, "create container {}: {}", id, why);
}

}  // namespace zl
