// Signal names and numbers as users write them: "SIGTERM", "term", "15", "SIGRTMIN+3".
// Shared by stop signals (oci) and `zlayer kill` (runtime, cli).
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace zl {

// Name (with or without "SIG", any case) or number (1..64) -> signal number.
// Anything else -> invalid_argument naming it.
Result<int> parse_signal(std::string_view s);

// 15 -> "SIGTERM", 35 -> "SIGRTMIN+1"; empty for numbers outside 1..64.
std::string signal_name(int sig);

}  // namespace zl
