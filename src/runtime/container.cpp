#include "runtime/container.h"

#include <fmt/format.h>

namespace zl {

std::string_view to_string(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::exited: return "exited";
    case ContainerStatus::unknown: return "unknown";
  }
  return "unknown";
}

std::string human_duration(int64_t seconds) {
  if (seconds < 1) return "Less than a second";
  if (seconds < 60) return fmt::format("{} second{}", seconds, seconds == 1 ? "" : "s");
  if (seconds < 3600) return fmt::format("{} minute{}", seconds / 60, seconds / 60 == 1 ? "" : "s");
  if (seconds < 172800) return fmt::format("{} hour{}", seconds / 3600, seconds / 3600 == 1 ? "" : "s");
  return fmt::format("{} days", seconds / 86400);
}

std::string status_text(const ContainerInfo& c, int64_t now_unix_nano) {
  auto since = [now_unix_nano](int64_t t) { return human_duration((now_unix_nano - t) / 1'000'000'000); };
  switch (c.status) {
    case ContainerStatus::created:
      return "Created";
    case ContainerStatus::running: {
      std::string up = "Up " + since(c.started_at);
      if (!c.health || c.health->status.empty()) return up;
      return up + (c.health->status == "starting" ? " (health: starting)" : " (" + c.health->status + ")");
    }
    case ContainerStatus::paused:
      return "Up " + since(c.started_at) + " (Paused)";
    case ContainerStatus::exited:
      return fmt::format("Exited ({}) {} ago", c.exit ? c.exit->exit_code : -1, since(c.finished_at));
    case ContainerStatus::unknown:
      return "Unknown";
  }
  return "Unknown";
}

}  // namespace zl
