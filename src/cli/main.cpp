// The zlayer command: global options, then one subcommand per operation.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "common/log.h"
#include "common/strings.h"

namespace zl::cli {

std::function<void()> run(Action action) {
  return [action = std::move(action)] {
    auto code = action();
    if (!code) {
      std::cerr << "zlayer: " << code.error().message << "\n";
      throw CLI::RuntimeError(1);
    }
    if (*code != 0) throw CLI::RuntimeError(*code);
  };
}

}  // namespace zl::cli

int main(int argc, char** argv) {
  zl::cli::Context ctx;
  if (const char* root = std::getenv("ZLAYER_ROOT"); root && *root) ctx.root = root;
  if (const char* insecure = std::getenv("ZLAYER_INSECURE_REGISTRIES"))
    ctx.insecure_registries = zl::split(insecure, ',');

  CLI::App app{"zlayer: container runtime agent"};
  app.set_version_flag("--version", std::string("zlayer ") + ZLAYER_VERSION);
  app.require_subcommand(1);
  app.add_option("--root", ctx.root, "State directory (env ZLAYER_ROOT)")->capture_default_str();
  app.add_option("--insecure-registry", ctx.insecure_registries,
                 "Registry reached over plain HTTP (repeatable; env ZLAYER_INSECURE_REGISTRIES)");
  app.add_option("--auth-config", ctx.auth_config, "Docker-style config.json with registry logins");
  app.add_option("--runtime", ctx.oci_runtime, "OCI runtime: auto, runc, crun or a path")->capture_default_str();
  app.add_flag("--debug", ctx.debug, "Log debug messages to stderr");
  app.parse_complete_callback([&] { zl::init_logging(ctx.debug); });

  zl::cli::add_image_commands(app, ctx);
  zl::cli::add_container_commands(app, ctx);
  zl::cli::add_agent_commands(app, ctx);
  zl::cli::add_volume_commands(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
