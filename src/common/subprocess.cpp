#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

struct Pipe {
  UniqueFd r, w;
  static Result<Pipe> make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error(errno, "create pipe");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
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

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  if (opts.env) {
    for (const auto& e : *opts.env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }

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
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (opts.env) {
      ::execve(exe.c_str(), cargv.data(), cenv.data());
    } else {
      ::execv(exe.c_str(), cargv.data());
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

}  // namespace zl
