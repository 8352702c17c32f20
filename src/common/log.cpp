#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace zl {

void init_logging(bool debug) {
  auto logger = spdlog::stderr_color_mt("zlayer");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  logger->set_level(debug ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace zl
