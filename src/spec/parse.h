// Reading a deployment spec (`*.zlayer.yml`, or the same as JSON): every field is checked as it
// is read, then the cross-field rules (spec/validate.h). Errors are invalid_argument and say where
// and what was expected:
//   app.zlayer.yml:12:7: services.web.scale.replicas: expected a non-negative integer, got "three"
//   app.zlayer.yml:5:5: services.web: unknown field "imagee" (did you mean "image"?)
#pragma once

#include <filesystem>
#include <string_view>

#include "common/error.h"
#include "spec/deployment_spec.h"

namespace zl::spec {

// `file_name` is only used in messages and kept as DeploymentSpec::source.
Result<DeploymentSpec> parse_deployment(std::string_view yaml_text, std::string_view file_name);

// Reads and parses the file; messages name it as given.
Result<DeploymentSpec> load_deployment(const std::filesystem::path& file);

}  // namespace zl::spec
