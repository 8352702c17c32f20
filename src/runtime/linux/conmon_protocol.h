// conmon's side of the contract, as podman speaks it (API version 1): its command line, and the
// JSON messages it writes on the _OCI_SYNCPIPE fd ({"data": pid} or {"data": -1, "message": ..}).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/linux/conmon_runtime.h"

namespace zl {

// conmon's argv to create container `id` from paths.bundle() with the runtime `cli`.
std::vector<std::string> conmon_argv(const std::string& conmon_path, const OciCli& cli, const std::string& id,
                                     const ContainerPaths& paths, const CreateOptions& opts);

struct SyncMessage {
  int data = 0;         // > 0: the container's pid; < 0: failure
  std::string message;  // the runtime's stderr when it failed
};
Result<SyncMessage> parse_sync_message(std::string_view line);

}  // namespace zl
