#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "common/fs.h"

namespace zl {

std::string SubprocessResult::describe() const {
  std::string s = timed_out ? "timed out" : signal ? fmt::format("killed by signal {}", signal)
                                                   : fmt::format("exit code {}", exit_code);
  std::string_view e = err;
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.remove_suffix(1);
  if (auto nl = e.rfind('\n'); nl != std::string_view::npos) e = e.substr(nl + 1);
  if (!e.empty()) s += fmt::format(": {}", e);
  return s;
}

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string_view p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (!p.empty()) {
    auto colon = p.find(':');
    std::string dir(p.substr(0, colon));
    p = colon == std::string_view::npos ? std::string_view() : p.substr(colon + 1);
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

namespace {

// argv and env as the NULL-terminated arrays exec wants (pointing into the caller's strings).
struct ExecArrays {
  std::vector<char*> argv, env;
  ExecArrays(const std::vector<std::string>& args, const std::optional<std::vector<std::string>>& environment) {
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (environment) {
      for (const auto& e : *environment) env.push_back(const_cast<char*>(e.c_str()));
      env.push_back(nullptr);
    }
  }
};

}  // namespace

Result<SubprocessResult> run_process(const std::vector<std::string>& argv, const SubprocessOptions& opts) {
  if (argv.empty()) return invalid_argument("run_process: empty argv");
  std::string exe = find_program(argv[0]);
  if (exe.empty()) return not_found("{}: program not found in PATH", argv[0]);

  ZL_TRY_ASSIGN(Pipe in, Pipe::make());
  ZL_TRY_ASSIGN(Pipe out, Pipe::make());
  ZL_TRY_ASSIGN(Pipe err, Pipe::make());

  ExecArrays c(argv, opts.env);

  pid_t pid = ::fork();
  if (pid < 0) return errno_error(errno, fmt::format("fork for {}", argv[0]));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    if (opts.stdin_data) {
      ::dup2(in.r.get(), 0);
    } else {
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
    }
    if (opts.capture_stdout) ::dup2(out.w.get(), 1);
    if (opts.capture_stderr) ::dup2(err.w.get(), 2);
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) ::_exit(127);
    // Nothing of ours leaks into the program (a daemon's listening socket would outlive it).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (opts.env) {
      ::execve(exe.c_str(), c.argv.data(), c.env.data());
    } else {
      ::execv(exe.c_str(), c.argv.data());
    }
    ::_exit(127);
  }

  in.r.reset();
  out.w.reset();
  err.w.reset();
  if (!opts.stdin_data) in.w.reset();

  SubprocessResult res;
  size_t in_off = 0;
  auto deadline = opts.timeout ? std::chrono::steady_clock::now() + *opts.timeout
                               : std::chrono::steady_clock::time_point::max();
  if (in.w) ::fcntl(in.w.get(), F_SETFL, O_NONBLOCK);
  if (opts.stdin_data && opts.stdin_data->empty()) in.w.reset();
  while (out.r || err.r || in.w) {
    pollfd fds[3];
    int n = 0;
    if (out.r) fds[n++] = {out.r.get(), POLLIN, 0};
    if (err.r) fds[n++] = {err.r.get(), POLLIN, 0};
    if (in.w) fds[n++] = {in.w.get(), POLLOUT, 0};
    int wait_ms = -1;
    if (opts.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        res.timed_out = true;
        ::kill(pid, SIGKILL);
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    int rc = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (in.w && fds[i].fd == in.w.get()) {
        const std::string& data = *opts.stdin_data;
        ssize_t w = ::write(in.w.get(), data.data() + in_off, data.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in.w.reset();
        if (in_off >= data.size()) in.w.reset();
        continue;
      }
      UniqueFd& src = (out.r && fds[i].fd == out.r.get()) ? out.r : err.r;
      std::string& dst = (&src == &out.r) ? res.out : res.err;
      char buf[65536];
      ssize_t r = ::read(src.get(), buf, sizeof buf);
      if (r > 0) {
        dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        src.reset();
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return errno_error(errno, fmt::format("wait for {}", argv[0]));
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  return res;
}

// ---- Child: a program running beside us ----

namespace {

ProcessExit decode_status(int status) {
  ProcessExit e;
  if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  return e;
}

// The child's stdio and extra fds as {source fd, target number}; -1 sources become /dev/null.
std::vector<std::pair<int, int>> fd_plan(const SpawnOptions& o, int devnull_r, int devnull_w) {
  std::vector<std::pair<int, int>> plan = {{o.stdin_fd >= 0 ? o.stdin_fd : devnull_r, 0},
                                           {o.stdout_fd >= 0 ? o.stdout_fd : devnull_w, 1},
                                           {o.stderr_fd >= 0 ? o.stderr_fd : devnull_w, 2}};
  plan.insert(plan.end(), o.extra_fds.begin(), o.extra_fds.end());
  return plan;
}

// Runs in the forked child: only async-signal-safe calls. Never returns.
[[noreturn]] void exec_child(const std::string& exe, char** argv, char** envp, const SpawnOptions& o,
                             const std::vector<std::pair<int, int>>& plan, int err_w) {
  int max_target = 2;
  for (const auto& [src, dst] : plan) max_target = std::max(max_target, dst);
  // The error pipe too must live above the targets, or a dup2 could replace it.
  int err_fd = ::fcntl(err_w, F_DUPFD_CLOEXEC, max_target + 1);
  if (err_fd < 0) ::_exit(127);
  auto fail = [err_fd]() {
    int e = errno;
    (void)!::write(err_fd, &e, sizeof e);
    ::_exit(127);
  };
  // Move every source above all targets first, so a dup2 never clobbers a source still needed.
  int moved[64];
  if (plan.size() > 64) fail();
  for (size_t i = 0; i < plan.size(); ++i) {
    moved[i] = ::fcntl(plan[i].first, F_DUPFD_CLOEXEC, max_target + 1);
    if (moved[i] < 0) fail();
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    if (::dup2(moved[i], plan[i].second) < 0) fail();
  }
  for (int fd = 3; fd <= max_target; ++fd) {
    bool wanted = false;
    for (const auto& p : plan) wanted = wanted || p.second == fd;
    if (!wanted) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::close_range(static_cast<unsigned>(max_target + 1), ~0U, CLOSE_RANGE_CLOEXEC);

  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < 32; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  if (o.new_session && ::setsid() < 0) fail();
  if (o.new_session && o.controlling_tty && ::ioctl(0, TIOCSCTTY, 0) < 0) fail();
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) fail();
  if (envp) {
    ::execve(exe.c_str(), argv, envp);
  } else {
    ::execv(exe.c_str(), argv);
  }
  fail();
  ::_exit(127);
}

}  // namespace

Result<Child> Child::spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  if (argv.empty()) return invalid_argument("spawn: empty argv");
  std::string exe = find_program(argv[0]);
  if (exe.empty()) return not_found("{}: program not found in PATH", argv[0]);

  ExecArrays c(argv, opts.env);
  UniqueFd devnull_r(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  UniqueFd devnull_w(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  if (!devnull_r || !devnull_w) return errno_error(errno, "open /dev/null");
  auto plan = fd_plan(opts, devnull_r.get(), devnull_w.get());
  int errp[2];
  if (::pipe2(errp, O_CLOEXEC) != 0) return errno_error(errno, "create pipe");
  UniqueFd err_r(errp[0]), err_w(errp[1]);

  pid_t pid = ::fork();
  if (pid < 0) return errno_error(errno, fmt::format("fork for {}", argv[0]));
  if (pid == 0) exec_child(exe, c.argv.data(), opts.env ? c.env.data() : nullptr, opts, plan, err_w.get());

  err_w.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(err_r.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  Child child(pid, std::move(pidfd), argv[0]);
  if (n > 0) {
    (void)child.wait();
    return errno_error(child_errno, fmt::format("start {}", argv[0]));
  }
  return child;
}

Child::~Child() {
  if (pid_ <= 0 || exit_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

void Child::signal(int sig) const {
  if (pid_ > 0 && !exit_) ::kill(pid_, sig);
}

Result<ProcessExit> Child::wait() {
  ZL_TRY_ASSIGN(auto e, wait_for(std::nullopt));
  return *e;
}

Result<std::optional<ProcessExit>> Child::wait_for(std::optional<std::chrono::milliseconds> timeout) {
  if (exit_) return exit_;
  if (pid_ <= 0) return internal("wait: no child");
  auto deadline =
      timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, timeout ? WNOHANG : 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return errno_error(errno, fmt::format("wait for {}", name_));
    if (r == pid_) {
      exit_ = decode_status(status);
      pidfd_.reset();
      return exit_;
    }
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<ProcessExit>();
    if (pidfd_) {
      pollfd p{pidfd_.get(), POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000 * 60)));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
    }
  }
}

}  // namespace zl
