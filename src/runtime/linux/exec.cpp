// Exec in a running container: `<runtime> exec` as our child (stdio to our pipes or a pty), its
// output streamed as events, start failures turned into docker's 126/127, timeouts and
// cancellation by SIGKILL of the exec'd process.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "runtime/linux/conmon_runtime.h"
#include "runtime/linux/pty.h"
#include "runtime/linux/runtime_message.h"

namespace zl {

namespace {

using Clock = std::chrono::steady_clock;


// One `<runtime> exec`: the child, the read ends of its output, and a scratch dir for the exec'd
// process's pid file and the runtime's own log (which tells a start failure from the process).
struct ExecRun {
  TempDir scratch;
  Child runtime;
  UniqueFd out, err;  // err is empty with a pty (one stream)
  std::optional<Pty> pty;

  fs::path pid_file() const { return scratch.path() / "exec.pid"; }
  fs::path log_file() const { return scratch.path() / "runtime.log"; }

  // SIGKILLs the exec'd process (the runtime then returns 137). False while the runtime has not
  // written its pid yet (it does so just after starting it): try again in a moment.
  bool kill_process() const {
    auto text = read_file(pid_file());
    int pid = 0;
    if (text) std::from_chars(text->data(), text->data() + text->size(), pid);
    if (pid <= 1) return false;
    ::kill(pid, SIGKILL);
    return true;
  }
};

// A kill that waits for the exec'd process's pid; after 2 s without one, the runtime goes instead.
class PendingKill {
 public:
  void request() {
    if (!since_) since_ = std::chrono::steady_clock::now();
  }
  bool pending() const { return since_ && !done_; }
  void attempt(const ExecRun& run) {
    if (!pending()) return;
    done_ = run.kill_process();
    if (!done_ && std::chrono::steady_clock::now() - *since_ > std::chrono::seconds(2)) {
      run.runtime.signal(SIGKILL);
      done_ = true;
    }
  }

 private:
  std::optional<std::chrono::steady_clock::time_point> since_;
  bool done_ = false;
};

std::vector<std::string> exec_args(const OciCli& cli, const std::string& id, const ExecOptions& o,
                                   const fs::path& pid_file, const fs::path& log_file, bool tty) {
  std::vector<std::string> args = cli.log_flags(log_file);
  args.insert(args.end(), {"exec", "--pid-file", pid_file.string()});
  if (tty) args.push_back("--tty");
  if (!o.workdir.empty()) args.insert(args.end(), {"--cwd", o.workdir});
  if (!o.user.empty()) args.insert(args.end(), {"--user", o.user});
  for (const auto& e : o.env) args.insert(args.end(), {"--env", e});
  args.push_back(id);
  args.insert(args.end(), o.args.begin(), o.args.end());
  return cli.argv(args);
}

Result<ExecRun> start_exec(const OciCli& cli, const std::string& id, const ExecOptions& o, bool tty,
                           const TerminalIo* term) {
  if (o.args.empty()) return invalid_argument("exec in {}: no command given", id);
  ZL_TRY_ASSIGN(auto scratch, TempDir::create(fs::temp_directory_path(), "zlayer-exec-"));
  auto argv = exec_args(cli, id, o, scratch.path() / "exec.pid", scratch.path() / "runtime.log", tty);
  SpawnOptions so;
  UniqueFd out_r, err_r;
  std::optional<Pty> pty;
  std::optional<Pipe> out, err;
  if (tty) {
    ZL_TRY_ASSIGN(pty, Pty::open(term ? term->rows : 24, term ? term->cols : 80));
    if (term) copy_window_size(term->in_fd, pty->slave.get());
    so.stdin_fd = so.stdout_fd = so.stderr_fd = pty->slave.get();
    so.new_session = so.controlling_tty = true;  // the runtime follows its terminal's size (SIGWINCH)
  } else {
    ZL_TRY_ASSIGN(out, Pipe::make());
    ZL_TRY_ASSIGN(err, Pipe::make());
    so.stdout_fd = out->w.get();
    so.stderr_fd = err->w.get();
    so.stdin_fd = o.stdin_fd;  // the runtime hands it to the process (-1: /dev/null)
  }
  ZL_TRY_ASSIGN(auto child, Child::spawn(argv, so));
  if (pty) pty->slave.reset();
  if (out) out_r = std::move(out->r);
  if (err) err_r = std::move(err->r);
  return ExecRun{std::move(scratch), std::move(child), std::move(out_r), std::move(err_r), std::move(pty)};
}

// What the runtime said in its own log: empty when it started the process fine.
std::string runtime_failure(const ExecRun& run) {
  auto log = read_file(run.log_file());
  return log ? clean_runtime_message(*log) : std::string();
}

struct PumpResult {
  ProcessExit exit;
  bool timed_out = false;
  std::optional<Error> stopped;  // the callback's error
  std::string err_seen;          // the first 64 KiB of stderr, to know if the runtime's message is in it
};

// Moves output to `emit` until the runtime has exited and its output is drained (a grace period
// of 500 ms after the exit, for pipes a stray background process keeps open).
class ExecPump {
 public:
  using Emit = std::function<Status(const ExecEvent&)>;
  ExecPump(ExecRun& run, std::optional<std::chrono::seconds> timeout, const Emit& emit)
      : run_(run),
        emit_(emit),
        out_(run.pty ? std::move(run.pty->master) : std::move(run.out)),
        err_(std::move(run.err)),
        deadline_(timeout ? Clock::now() + *timeout : Clock::time_point::max()) {}

  Result<PumpResult> pump() {
    while (!exited() || ((out_ || err_) && Clock::now() < *drain_until_)) {
      pollfd fds[3];
      nfds_t n = 0;
      if (out_) fds[n++] = {out_.get(), POLLIN, 0};
      if (err_) fds[n++] = {err_.get(), POLLIN, 0};
      if (!exited() && run_.runtime.exit_fd() >= 0) fds[n++] = {run_.runtime.exit_fd(), POLLIN, 0};
      int rc = ::poll(fds, n, next_wake_ms());
      if (rc < 0 && errno != EINTR) return errno_error(errno, "poll exec output");
      for (nfds_t i = 0; rc > 0 && i < n; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        if (out_ && fds[i].fd == out_.get()) read_from(out_, ExecEvent::Kind::stdout_data);
        if (err_ && fds[i].fd == err_.get()) read_from(err_, ExecEvent::Kind::stderr_data);
      }
      if (!exited()) ZL_TRY(check_exit());
    }
    return std::move(res_);
  }

 private:
  bool exited() const { return drain_until_.has_value(); }

  int next_wake_ms() const {
    auto until = exited() ? *drain_until_
                          : std::min(res_.timed_out ? Clock::time_point::max() : deadline_,
                                     Clock::now() + std::chrono::milliseconds(kill_.pending() ? 10 : 250));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(0, ms));
  }

  void read_from(UniqueFd& src, ExecEvent::Kind kind) {
    char buf[65536];
    ssize_t r = ::read(src.get(), buf, sizeof buf);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (r <= 0) {  // EOF, or EIO from a pty whose last holder is gone
      src.reset();
      return;
    }
    std::string data(buf, static_cast<size_t>(r));
    if (kind == ExecEvent::Kind::stderr_data && res_.err_seen.size() < 65536) res_.err_seen += data;
    if (res_.stopped) return;  // the caller is gone: drain quietly
    if (auto s = emit_(ExecEvent{kind, std::move(data), 0}); !s) {
      res_.stopped = s.error();
      kill_.request();
    }
  }

  Status check_exit() {
    ZL_TRY_ASSIGN(auto e, run_.runtime.wait_for(std::chrono::milliseconds(0)));
    if (e) {
      res_.exit = *e;
      drain_until_ = Clock::now() + std::chrono::milliseconds(500);
      return {};
    }
    if (!res_.timed_out && Clock::now() >= deadline_) {
      res_.timed_out = true;
      kill_.request();
    }
    kill_.attempt(run_);
    return {};
  }

  ExecRun& run_;
  const Emit& emit_;
  UniqueFd out_, err_;
  Clock::time_point deadline_;
  std::optional<Clock::time_point> drain_until_;  // set once the runtime has exited
  PendingKill kill_;
  PumpResult res_;
};

// The exec's end: its exit code, or the runtime's failure as docker reports it (126/127 with the
// message on stderr) or as an error (container not running, runtime broken).
Status finish_exec(const std::string& id, const ExecRun& run, const PumpResult& res,
                   std::optional<std::chrono::seconds> timeout,
                   const std::function<Status(const ExecEvent&)>& emit) {
  if (res.stopped) return tl::unexpected(*res.stopped);
  if (res.timed_out) return unavailable("exec in {} timed out after {} s", id, timeout->count());
  std::string failure = res.exit.code() != 0 ? runtime_failure(run) : std::string();
  if (failure.empty()) return emit(ExecEvent{ExecEvent::Kind::exit, {}, res.exit.code()});
  ErrorKind kind = runtime_error_kind(failure);
  auto code = exec_start_failure_code(failure);
  if (kind != ErrorKind::internal || !code) return make_error(kind, "exec in {}: {}", id, failure);
  if (res.err_seen.find(failure) == std::string::npos) {
    ZL_TRY(emit(ExecEvent{ExecEvent::Kind::stderr_data, failure + "\n", 0}));
  }
  return emit(ExecEvent{ExecEvent::Kind::exit, {}, *code});
}

}  // namespace

Status ConmonRuntime::exec_stream(const std::string& id, const ExecOptions& opts,
                                  const std::function<Status(const ExecEvent&)>& on_event) {
  ZL_TRY_ASSIGN(auto run, start_exec(cli_, id, opts, opts.tty, nullptr));
  ZL_TRY_ASSIGN(auto res, ExecPump(run, opts.timeout, on_event).pump());
  return finish_exec(id, run, res, opts.timeout, on_event);
}

Result<ExecResult> ConmonRuntime::exec(const std::string& id, const ExecOptions& opts) {
  ExecResult result;
  ZL_TRY(exec_stream(id, opts, [&](const ExecEvent& e) -> Status {
    switch (e.kind) {
      case ExecEvent::Kind::stdout_data:
        result.out += e.data;
        break;
      case ExecEvent::Kind::stderr_data:
        result.err += e.data;
        break;
      case ExecEvent::Kind::exit:
        result.exit_code = e.exit_code;
        break;
    }
    return {};
  }));
  return result;
}

Result<int> ConmonRuntime::exec_interactive(const std::string& id, const ExecOptions& opts,
                                            const TerminalIo& io) {
  ZL_TRY_ASSIGN(auto run, start_exec(cli_, id, opts, true, &io));
  {
    if (io.on_pty) io.on_pty(run.pty->master.get());
    struct Untold {
      const TerminalIo& io;
      ~Untold() {
        if (io.on_pty) io.on_pty(-1);
      }
    } untold{io};
    ZL_TRY_ASSIGN(auto raw, RawMode::enable(io.in_fd));
    ZL_TRY(pump_terminal(io, run.pty->master.get()));
  }
  ZL_TRY_ASSIGN(auto exit, run.runtime.wait());
  if (exit.code() == 0) return 0;
  std::string failure = runtime_failure(run);
  if (failure.empty()) return exit.code();
  ErrorKind kind = runtime_error_kind(failure);
  auto code = exec_start_failure_code(failure);
  if (kind != ErrorKind::internal || !code) return make_error(kind, "exec in {}: {}", id, failure);
  return *code;  // the runtime printed its message on the terminal already
}

}  // namespace zl
