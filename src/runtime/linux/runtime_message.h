// What the OCI runtime (runc, crun) says when a command fails, made readable and classified:
// logrus text lines, JSON log lines and plain lines become one sentence, and a kind.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl {

// The error messages in a runtime's stderr or --log output: JSON lines ({"level":"error","msg":..}),
// logrus text lines (time=.. level=error msg="..") and plain lines; warning/info/debug entries are
// dropped, duplicates removed, the rest joined with "; ".
std::string clean_runtime_message(std::string_view output);

// The kind a runtime failure implies: the container does not exist -> not_found; it is not in a
// state that allows the command (not running, stopped, paused) -> conflict; else internal.
ErrorKind runtime_error_kind(std::string_view message);

// For an exec the runtime could not start: 127 when the program is missing, 126 when it cannot
// be executed (docker's codes); nullopt when the failure is something else.
std::optional<int> exec_start_failure_code(std::string_view message);

}  // namespace zl
