// The one way zlayer starts another program: argv (never a shell string), explicit env,
// stdio captured or inherited, an optional timeout, exit status decoded into code/signal.
// run_process runs one to completion; Child::spawn starts one that runs beside us.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fs.h"

namespace zl {

struct SubprocessOptions {
  std::optional<std::vector<std::string>> env;  // unset: inherit ours
  std::string cwd;                              // empty: inherit
  std::optional<std::string> stdin_data;        // unset: /dev/null
  bool capture_stdout = true;                   // false: inherit
  bool capture_stderr = true;                   // false: inherit
  std::optional<std::chrono::milliseconds> timeout;  // SIGKILL when exceeded
};

struct SubprocessResult {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string out;
  std::string err;
  bool ok() const { return signal == 0 && exit_code == 0; }
  // "exit code 3" / "killed by signal 9" (+ first line of stderr when present)
  std::string describe() const;
};

// Runs argv[0] (looked up in PATH) to completion. Fails only when it cannot be started;
// a non-zero exit is a normal result the caller inspects.
Result<SubprocessResult> run_process(const std::vector<std::string>& argv,
                                     const SubprocessOptions& opts = {});

// Finds a program in PATH; empty when absent.
std::string find_program(const std::string& name);

// How a spawned child ended.
struct ProcessExit {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended it, 0 if it exited
  // The shell's view: the exit code, or 128+N for signal N.
  int code() const { return signal ? 128 + signal : exit_code; }
};

struct SpawnOptions {
  std::optional<std::vector<std::string>> env;  // unset: inherit ours
  std::string cwd;                              // empty: inherit
  int stdin_fd = -1;                            // -1: /dev/null
  int stdout_fd = -1;                           // -1: /dev/null
  int stderr_fd = -1;                           // -1: /dev/null
  // {our fd, its number in the child}: passed on at fixed numbers (e.g. conmon's sync pipe at 3).
  // Every other fd of ours is closed in the child.
  std::vector<std::pair<int, int>> extra_fds;
  bool new_session = false;      // setsid() in the child
  bool controlling_tty = false;  // with new_session: its stdin (a tty) becomes the controlling terminal
};

// A program running beside us (conmon's launcher, an interactive `runc exec`): started by
// spawn(), reaped by wait(); if still running when the object goes away it is SIGKILLed and
// reaped, so no child outlives its owner by accident and none is left a zombie.
class Child {
 public:
  // Starts argv[0] (looked up in PATH). Fails when it cannot be started (exec errors included).
  static Result<Child> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});
  Child(Child&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)),
        pidfd_(std::move(o.pidfd_)),
        exit_(o.exit_),
        name_(std::move(o.name_)) {}
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }
  // Becomes readable (poll) when the child exits; -1 once reaped.
  int exit_fd() const { return pidfd_.get(); }
  // Blocks until the child exits (or the timeout passes: nullopt), then reaps it.
  Result<std::optional<ProcessExit>> wait_for(std::optional<std::chrono::milliseconds> timeout);
  Result<ProcessExit> wait();
  // Sends `sig` unless the child has been reaped already.
  void signal(int sig) const;

 private:
  Child(pid_t pid, UniqueFd pidfd, std::string name)
      : pid_(pid), pidfd_(std::move(pidfd)), name_(std::move(name)) {}
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<ProcessExit> exit_;
  std::string name_;
};

}  // namespace zl
