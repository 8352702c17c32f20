// A container as zlayer reports it: identity, what it runs, and its state now.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/attachment.h"
#include "runtime/container_spec.h"
#include "runtime/linux/conmon_runtime.h"

namespace zl {

enum class ContainerStatus { created, running, paused, exited, unknown };
std::string_view to_string(ContainerStatus s);

// One health probe of a container (docker's State.Health.Log entry): when it ran, its result
// (0 passed; a command's own exit code, else 1) and what it said (a command's output, a network
// probe's error).
struct HealthProbe {
  int64_t start_unix_nano = 0, end_unix_nano = 0;
  int exit_code = 0;
  std::string output;
  bool operator==(const HealthProbe&) const = default;
};

// A container's health as the supervisor that checks it judges it (docker's State.Health):
// starting until a probe passes, healthy, or unhealthy after too many failures in a row.
struct ContainerHealth {
  std::string status;  // starting | healthy | unhealthy
  int failing_streak = 0;
  std::vector<HealthProbe> log;  // the last probes, oldest first
  static constexpr size_t kLogSize = 5;
  bool operator==(const ContainerHealth&) const = default;
};

struct ContainerInfo {
  std::string id;    // 64 hex digits
  std::string name;
  std::string image;     // reference as resolved (normalized)
  std::string image_id;  // sha256:<config digest>
  ContainerSpec spec;
  std::vector<std::string> command;  // entrypoint + cmd as run
  ContainerStatus status = ContainerStatus::unknown;
  int pid = 0;  // while running or paused
  int64_t created_at = 0, started_at = 0, finished_at = 0;  // unix nanoseconds; 0 = never
  std::optional<ExitInfo> exit;  // once exited
  std::string cgroups_path;
  fs::path dir;       // <root>/containers/<id>
  fs::path rootfs;    // the overlay mount point
  std::string oci_runtime;
  std::optional<net::ContainerNetwork> network;  // how it is connected (none for older containers)
  std::optional<ContainerHealth> health;  // when something health-checks it (the agent)
};

// docker's words for a span of time: "Less than a second", "5 seconds", "3 minutes", "2 days".
std::string human_duration(int64_t seconds);
// docker ps's STATUS column at `now_unix_nano`: "Up 5 minutes (healthy)", "Up 2 seconds
// (health: starting)", "Up 1 hour (Paused)", "Exited (3) 4 seconds ago", "Created".
std::string status_text(const ContainerInfo& c, int64_t now_unix_nano);

}  // namespace zl
