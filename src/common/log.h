// zlayer's own log (spdlog to stderr). CLI commands log only warnings unless --debug.
#pragma once

#include <spdlog/spdlog.h>

namespace zl {

void init_logging(bool debug);

}  // namespace zl
