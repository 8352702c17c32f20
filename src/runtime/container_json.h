// JSON forms of ContainerSpec and ExitInfo, for container.json / state.json on disk and for
// inspect output. from_json is strict: a wrong type is an error naming the field.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/container.h"
#include "runtime/container_spec.h"
#include "runtime/linux/conmon_runtime.h"

namespace zl {

nlohmann::json to_json(const ContainerSpec& s);
Result<ContainerSpec> container_spec_from_json(const nlohmann::json& j);

std::string_view to_string(ExitInfo::Reason r);
nlohmann::json to_json(const ExitInfo& e);
Result<ExitInfo> exit_info_from_json(const nlohmann::json& j);

// Health: ours (health.json, the REST API: status, failing_streak, log[{start, end, exit_code,
// output}], times in unix nanoseconds) and docker's State.Health (Status, FailingStreak,
// Log[{Start, End, ExitCode, Output}], RFC 3339 times).
nlohmann::json to_json(const ContainerHealth& h);
Result<ContainerHealth> container_health_from_json(const nlohmann::json& j);
nlohmann::json docker_health_json(const ContainerHealth& h);

// docker's NetworkSettings of a container (for `inspect` and the Docker API): each network's
// address, gateway and MAC, and the published ports.
nlohmann::json docker_network_settings(const ContainerInfo& c);

}  // namespace zl
