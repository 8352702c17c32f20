// What a container's directory and /proc say about it, for the runtime's own use: its cgroup (from
// config.json), its conmon (the pid file checked against /proc), and waiting for that conmon.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "runtime/linux/conmon_runtime.h"

namespace zl {

// The fields of /proc/<pid>/stat from the third (the state) on: fields[0] is field 3, fields[19]
// field 22 (the start time in clock ticks since boot); nullopt when the process is gone or a zombie.
std::optional<std::vector<std::string>> live_proc_stat(pid_t pid);

// The pid in a pid file (conmon's, or the container init's that the runtime wrote); nullopt when
// the file is missing or holds no pid above 1.
std::optional<pid_t> read_pid_file(const fs::path& file);

// linux.cgroupsPath of the bundle's config.json.
Result<std::string> container_cgroups_path(const ContainerPaths& paths);

// A pidfd on the container's conmon while it lives (the pid file names a conmon whose command
// line has this container's exit dir: a reused pid is not mistaken for it); empty otherwise.
UniqueFd open_conmon_pidfd(const ContainerPaths& paths);

// Waits for the container's conmon to exit; SIGKILLs it when the timeout passes.
Status wait_for_monitor_exit(const ContainerPaths& paths, std::chrono::milliseconds timeout);

}  // namespace zl
