// Registration of the CLI's subcommands; each group lives in its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "cli/context.h"

namespace zl::cli {

// A command's body: returns the process exit code or an error printed as "zlayer: <message>".
using Action = std::function<Result<int>()>;

// Wraps an action for CLI11: errors become CLI::RuntimeError carrying the exit code, after
// the message is printed once.
std::function<void()> run(Action action);

void add_image_commands(CLI::App& app, Context& ctx);
void add_container_commands(CLI::App& app, Context& ctx);
void add_agent_commands(CLI::App& app, Context& ctx);

// `zlayer logs SERVICE`: a deployed service's logs through the daemon (when no container has that name).
Result<int> service_logs(Context& ctx, const std::string& ref, bool follow, bool timestamps, std::optional<size_t> tail);
void add_volume_commands(CLI::App& app, Context& ctx);
void add_network_commands(CLI::App& app, Context& ctx);
void add_dns_command(CLI::App& app, Context& ctx);  // hidden `zlayer dns-server`

}  // namespace zl::cli
