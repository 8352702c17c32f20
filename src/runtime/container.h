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
};

}  // namespace zl
