// The one way zlayer starts another program: argv (never a shell string), explicit env,
// stdio captured or inherited, an optional timeout, exit status decoded into code/signal.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

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

}  // namespace zl
