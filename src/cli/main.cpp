// The zlayer command: global options, then one subcommand per operation.
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "common/log.h"
#include "common/strings.h"

namespace zl::cli {

void add_info_command(CLI::App& app, Context& ctx);  // `zlayer info` (info_command.cpp)

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
  if (const char* v = std::getenv("ZLAYER_CLUSTER_CIDR"); v && *v) ctx.net.cluster_cidr = v;
  if (const char* v = std::getenv("ZLAYER_NODE_SUBNET"); v && *v) ctx.net.node_subnet = v;
  if (const char* v = std::getenv("ZLAYER_BRIDGE_PREFIX"); v && *v) ctx.net.bridge_prefix = v;
  if (const char* v = std::getenv("ZLAYER_HOST"); v && *v) ctx.daemon.host = v;
  if (const char* v = std::getenv("ZLAYER_TLS_CERT"); v && *v) ctx.daemon.tls_cert = v;
  if (const char* v = std::getenv("ZLAYER_TLS_KEY"); v && *v) ctx.daemon.tls_key = v;
  if (const char* v = std::getenv("ZLAYER_TLS_CA"); v && *v) ctx.daemon.tls_ca = v;

  CLI::App app{"zlayer: container runtime agent"};
  app.set_version_flag("--version", std::string("zlayer ") + ZLAYER_VERSION);
  app.require_subcommand(1);
  app.add_option("--root", ctx.root, "State directory (env ZLAYER_ROOT)")->capture_default_str();
  app.add_option("--insecure-registry", ctx.insecure_registries,
                 "Registry reached over plain HTTP (repeatable; env ZLAYER_INSECURE_REGISTRIES)");
  app.add_option("--auth-config", ctx.auth_config, "Docker-style config.json with registry logins");
  app.add_option("--runtime", ctx.oci_runtime, "OCI runtime: auto, runc, crun or a path")->capture_default_str();
  app.add_option("--cluster-cidr", ctx.net.cluster_cidr, "Cluster address range (env ZLAYER_CLUSTER_CIDR)")
      ->capture_default_str();
  app.add_option("--node-subnet", ctx.net.node_subnet,
                 "This node's slice of the cluster range, the default network's subnet (env ZLAYER_NODE_SUBNET; "
                 "default: its first /24)");
  app.add_option("--bridge-prefix", ctx.net.bridge_prefix, "Name prefix of zlayer's bridges (env ZLAYER_BRIDGE_PREFIX)")
      ->capture_default_str();
  app.add_flag("--debug", ctx.debug, "Log debug messages to stderr");
  app.add_option(
      "--host", ctx.daemon.host,
      "The daemon to talk to: https://HOST:PORT (its TLS listener) or unix:///PATH (env ZLAYER_HOST; "
      "default: <root>/run/zlayer.sock)");
  app.add_option("--tls-cert", ctx.daemon.tls_cert,
                 "Client certificate (PEM) for an https --host (env ZLAYER_TLS_CERT)");
  app.add_option("--tls-key", ctx.daemon.tls_key, "Its private key (PEM) (env ZLAYER_TLS_KEY)");
  app.add_option("--tls-ca", ctx.daemon.tls_ca,
                 "CA (PEM) that signed the daemon's certificate (env ZLAYER_TLS_CA)");
  app.parse_complete_callback([&] { zl::init_logging(ctx.debug); });

  zl::cli::add_image_commands(app, ctx);
  zl::cli::add_container_commands(app, ctx);
  zl::cli::add_agent_commands(app, ctx);
  zl::cli::add_volume_commands(app, ctx);
  zl::cli::add_network_commands(app, ctx);
  zl::cli::add_info_command(app, ctx);
  zl::cli::add_dns_command(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
