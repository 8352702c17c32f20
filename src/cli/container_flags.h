// The docker-style flags of `run` and `create`, and their translation into a ContainerSpec
// (sizes like "64m", "-v src:dst:ro", "--tmpfs /t:size=1m", "--ulimit nofile=1024:2048", ...).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "common/error.h"
#include "runtime/container_spec.h"

namespace zl::cli {

struct ContainerFlags {
  std::string name, workdir, user, entrypoint, hostname, stop_signal, pull = "if_not_present";
  std::vector<std::string> env, env_files, volumes, tmpfs, cap_add, cap_drop, ulimits, sysctls, devices,
      security_opts, labels, networks, publish, network_aliases;
  std::string memory, memory_swap, cpus, cpuset_cpus;
  int64_t cpu_shares = -1, pids_limit = 0;
  int stop_timeout = -1;
  bool privileged = false, read_only = false, tty = false, interactive = false;
  std::string image;
  std::vector<std::string> command;
};

void add_container_flags(CLI::App* cmd, ContainerFlags& f);
// The arguments after the last positional (the container's command), as prefix_command() left them.
std::vector<std::string> command_after_positionals(const CLI::App* c);
// The spec the flags ask for; `image` is set to the normalized reference by the caller.
Result<ContainerSpec> to_container_spec(const ContainerFlags& f);
// "64m" -> 67108864; plain numbers are bytes; k, m, g, t suffixes (binary, like docker).
Result<int64_t> parse_bytes(const std::string& text, std::string_view what);

}  // namespace zl::cli
