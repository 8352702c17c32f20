// Network commands: network create, ls, inspect, rm — docker's CLI for bridge networks.
#include <fmt/format.h>

#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "net/network_json.h"

namespace zl::cli {

namespace {

using json = nlohmann::json;

// The names of containers by id ("" when one is gone meanwhile).
std::string container_name(LinuxRuntime& rt, const std::string& id) {
  auto c = rt.inspect_container(id);
  return c ? c->name : "";
}

Result<json> network_json(LinuxRuntime& rt, net::NetworkManager& nm, const net::NetworkRecord& n) {
  return net::docker_network_json(nm, n, [&rt](const std::string& id) { return container_name(rt, id); });
}

struct LsArgs {
  bool quiet = false;
  std::string format;
};

Result<int> ls(Context& ctx, const LsArgs& a) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(net::NetworkManager * nm, rt->network());
  ZL_TRY_ASSIGN(auto nets, nm->list_networks());
  if (a.quiet) {
    for (const auto& n : nets) std::cout << n.id.substr(0, 12) << "\n";
    return 0;
  }
  if (a.format == "json") {
    json out = json::array();
    for (const auto& n : nets) {
      ZL_TRY_ASSIGN(auto j, network_json(*rt, *nm, n));
      out.push_back(std::move(j));
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (!a.format.empty())
    return invalid_argument("unknown --format \"{}\": only \"json\" is supported", a.format);
  Table t({"NETWORK ID", "NAME", "DRIVER", "SUBNET", "BRIDGE"});
  for (const auto& n : nets) t.add({n.id.substr(0, 12), n.name, n.driver, n.subnet.str(), n.bridge});
  std::cout << t.str();
  return 0;
}

Result<int> inspect(Context& ctx, const std::vector<std::string>& refs) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(net::NetworkManager * nm, rt->network());
  json out = json::array();
  int failures = 0;
  for (const auto& r : refs) {
    auto n = nm->inspect_network(r);
    auto j = n ? network_json(*rt, *nm, *n) : Result<json>(tl::unexpected(n.error()));
    if (!j) {
      std::cerr << "zlayer: " << j.error().message << "\n";
      ++failures;
      continue;
    }
    out.push_back(std::move(*j));
  }
  std::cout << out.dump(4) << "\n";
  return failures ? 1 : 0;
}

Status remove(LinuxRuntime& rt, net::NetworkManager& nm, const std::string& ref) {
  ZL_TRY_ASSIGN(auto n, nm.inspect_network(ref));
  ZL_TRY_ASSIGN(auto users, nm.network_users(n.name));
  if (!users.empty() && !n.is_default) {
    std::string names;
    for (const auto& id : users) {
      std::string name = container_name(rt, id);
      names += (names.empty() ? "" : ", ") + (name.empty() ? id.substr(0, 12) : name);
    }
    return conflict("network {} is in use by container{} {}: remove {} first", n.name,
                    users.size() == 1 ? "" : "s", names, users.size() == 1 ? "it" : "them");
  }
  return nm.remove_network(n.name);
}

}  // namespace

void add_network_commands(CLI::App& app, Context& ctx) {
  auto* network = app.add_subcommand("network", "Manage networks");
  network->require_subcommand(1);

  auto create_args = std::make_shared<std::pair<std::string, std::string>>();  // name, subnet
  auto driver = std::make_shared<std::string>("bridge");
  auto* c = network->add_subcommand("create", "Create a bridge network");
  c->add_option("name", create_args->first, "Network name")->required();
  c->add_option("--subnet", create_args->second,
                "Subnet in CIDR form (default: the next free /24 of the cluster range)");
  c->add_option("-d,--driver", *driver, "Only bridge")->capture_default_str();
  c->callback(run([&ctx, create_args, driver]() -> Result<int> {
    if (*driver != "bridge")
      return unsupported("network driver \"{}\" is not supported: only \"bridge\" is", *driver);
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY_ASSIGN(net::NetworkManager * nm, rt->network());
    ZL_TRY_ASSIGN(auto n, nm->create_network(create_args->first, create_args->second));
    std::cout << n.id << "\n";
    return 0;
  }));

  auto ls_args = std::make_shared<LsArgs>();
  auto* l = network->add_subcommand("ls", "List networks");
  l->alias("list");
  l->add_flag("-q,--quiet", ls_args->quiet, "Only ids");
  l->add_option("--format", ls_args->format, "json");
  l->callback(run([&ctx, ls_args] { return ls(ctx, *ls_args); }));

  auto inspect_args = std::make_shared<std::vector<std::string>>();
  auto* i = network->add_subcommand("inspect", "Show networks as JSON");
  i->add_option("network", *inspect_args)->required();
  i->callback(run([&ctx, inspect_args] { return inspect(ctx, *inspect_args); }));

  auto rm_args = std::make_shared<std::vector<std::string>>();
  auto* r = network->add_subcommand("rm", "Remove networks (refused while containers use them)");
  r->alias("remove");
  r->add_option("network", *rm_args)->required();
  r->callback(run([&ctx, rm_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY_ASSIGN(net::NetworkManager * nm, rt->network());
    int failures = 0;
    for (const auto& ref : *rm_args) {
      if (auto st = remove(*rt, *nm, ref); !st) {
        std::cerr << "zlayer: " << st.error().message << "\n";
        ++failures;
      } else {
        std::cout << ref << "\n";
      }
    }
    return failures ? 1 : 0;
  }));

  struct ConnectArgs {
    std::string network, container;
    std::vector<std::string> aliases;
    bool force = false;
  };
  auto connect_args = std::make_shared<ConnectArgs>();
  auto* cn = network->add_subcommand("connect", "Connect a container to one more network");
  cn->add_option("network", connect_args->network)->required();
  cn->add_option("container", connect_args->container)->required();
  cn->add_option("--alias", connect_args->aliases, "More names for the container on this network");
  cn->callback(run([&ctx, connect_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY(rt->connect_network(connect_args->container, connect_args->network, connect_args->aliases));
    return 0;
  }));

  auto disconnect_args = std::make_shared<ConnectArgs>();
  auto* dc = network->add_subcommand("disconnect", "Disconnect a container from a network");
  dc->add_option("network", disconnect_args->network)->required();
  dc->add_option("container", disconnect_args->container)->required();
  dc->add_flag("-f,--force", disconnect_args->force, "Accepted as docker's (a running container is never refused)");
  dc->callback(run([&ctx, disconnect_args]() -> Result<int> {
    ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
    ZL_TRY(rt->disconnect_network(disconnect_args->container, disconnect_args->network));
    return 0;
  }));
}

}  // namespace zl::cli
