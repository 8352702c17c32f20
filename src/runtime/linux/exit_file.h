// How a container process ended, as conmon records it: the exit file (the status it computed:
// the exit code, or 128+N for signal N, or -1) and the "oom" marker in the persist dir.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl {

struct ExitInfo {
  enum class Reason { exited, signal, oom_killed, runtime_error };
  int exit_code = 0;  // 128+N for a signal N, like docker
  Reason reason = Reason::exited;
  int signal = 0;  // when the code says a signal ended it (reason signal or oom_killed)
  int64_t finished_at_unix_nano = 0;
  std::string message;  // runtime_error: what went wrong
};

// Reads conmon's exit file content. conmon writes one status number for both "exited 137" and
// "killed by SIGKILL", so like docker a code of 128+N (N a signal number) reads as signal N; the
// oom marker turns the reason into oom_killed (the code stays what the process got). "-1" (conmon
// could not tell, or its --timeout fired) is a runtime_error. invalid_argument when unparsable.
Result<ExitInfo> parse_exit_file(std::string_view content, bool oom_marker, int64_t finished_at_unix_nano);

}  // namespace zl
