#include "runtime/container.h"

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

}  // namespace zl
