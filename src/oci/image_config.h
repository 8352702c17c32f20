// The parts of an image's config blob that shape a container's process ("config": Env, Cmd,
// Entrypoint, WorkingDir, User, StopSignal, Labels), checked for type.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace zl {

struct ImageRunConfig {
  std::vector<std::string> env;
  std::vector<std::string> cmd;
  std::vector<std::string> entrypoint;
  std::string working_dir;
  std::string user;
  std::string stop_signal;
  std::map<std::string, std::string> labels;
};

// `blob` is the whole image config ({"architecture":..., "config": {...}, "rootfs": ...}).
// A missing or null "config" or field is empty; a field of the wrong type -> invalid_argument.
Result<ImageRunConfig> parse_image_config(const nlohmann::json& blob);

}  // namespace zl
