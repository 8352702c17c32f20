// Volume commands: volume create, ls, inspect, rm, prune — docker's CLI for the local driver.
#include <fmt/format.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "common/time_format.h"

namespace zl::cli {

namespace {

using json = nlohmann::json;

json volume_json(const VolumeInfo& v) {
  return {{"Name", v.name},
          {"Driver", v.driver},
          {"Mountpoint", v.mountpoint.string()},
          {"CreatedAt", rfc3339_seconds(v.created_at)},
          {"Labels", v.labels},
          {"Options", v.options},
          {"Scope", "local"}};
}

VolumeStore::Usage usage_of(LinuxRuntime* rt) {
  return [rt] { return rt->volume_users(); };
}

// "KEY=VALUE" (or "KEY", an empty value) options into a map.
Result<std::map<std::string, std::string>> key_values(const std::vector<std::string>& items,
                                                      std::string_view what) {
  std::map<std::string, std::string> out;
  for (const auto& kv : items) {
    auto eq = kv.find('=');
    if (eq == 0 || kv.empty()) return invalid_argument("invalid {} \"{}\": expected KEY=VALUE", what, kv);
    out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return out;
}

struct CreateArgs {
  std::string name, driver = "local";
  std::vector<std::string> labels, options;
};

Result<int> create(Context& ctx, const CreateArgs& a) {
  if (a.driver != "local")
    return unsupported("volume driver \"{}\" is not supported: only \"local\" is", a.driver);
  if (!a.options.empty())
    return unsupported("volume driver options (--opt) are not supported: a local volume is a directory");
  VolumeCreateOptions opts;
  ZL_TRY_ASSIGN(opts.labels, key_values(a.labels, "--label"));
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(auto v, rt->volumes().create(a.name.empty() ? new_volume_name() : a.name, opts));
  std::cout << v.name << "\n";
  return 0;
}

struct LsArgs {
  bool quiet = false;
  std::string format;
};

Result<int> ls(Context& ctx, const LsArgs& a) {
  if (!a.format.empty() && a.format != "json")
    return invalid_argument("unknown --format \"{}\": only \"json\" is supported", a.format);
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(auto list, rt->volumes().list());
  if (a.quiet) {
    for (const auto& v : list) std::cout << v.name << "\n";
    return 0;
  }
  if (a.format == "json") {
    json out = json::array();
    for (const auto& v : list) out.push_back(volume_json(v));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  Table t({"DRIVER", "VOLUME NAME"});
  for (const auto& v : list) t.add({v.driver, v.name});
  std::cout << t.str();
  return 0;
}

Result<int> inspect(Context& ctx, const std::vector<std::string>& names) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  json out = json::array();
  std::vector<Error> errors;
  for (const auto& n : names) {
    auto v = rt->volumes().inspect(n);
    if (v)
      out.push_back(volume_json(*v));
    else
      errors.push_back(v.error());
  }
  std::cout << out.dump(4) << "\n";
  for (size_t i = 0; i + 1 < errors.size(); ++i) std::cerr << "zlayer: " << errors[i].message << "\n";
  if (!errors.empty()) return tl::unexpected(errors.back());
  return 0;
}

Result<int> rm(Context& ctx, const std::vector<std::string>& names, bool force) {
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  int failures = 0;
  for (const auto& n : names) {
    if (auto st = rt->volumes().remove(n, force, usage_of(rt)); !st) {
      std::cerr << "zlayer: " << st.error().message << "\n";
      ++failures;
    } else {
      std::cout << n << "\n";
    }
  }
  return failures ? 1 : 0;
}

Result<int> prune(Context& ctx, bool force) {
  if (!force) {
    std::cout << "WARNING! This will remove all local volumes not used by at least one container.\n"
                 "Are you sure you want to continue? [y/N] "
              << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return 0;
  }
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(auto report, rt->volumes().prune(usage_of(rt)));
  if (!report.removed.empty()) {
    std::cout << "Deleted Volumes:\n";
    for (const auto& n : report.removed) std::cout << n << "\n";
    std::cout << "\n";
  }
  std::cout << "Total reclaimed space: " << human_size(report.bytes_freed) << "\n";
  return 0;
}

}  // namespace

void add_volume_commands(CLI::App& app, Context& ctx) {
  auto* volume = app.add_subcommand("volume", "Manage volumes");
  volume->require_subcommand(1);

  auto create_args = std::make_shared<CreateArgs>();
  auto* c = volume->add_subcommand("create", "Create a volume (a random name when none is given)");
  c->add_option("name", create_args->name, "Volume name");
  c->add_option("-d,--driver", create_args->driver, "Volume driver (only local)")->capture_default_str();
  c->add_option("--label", create_args->labels, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  c->add_option("-o,--opt", create_args->options, "Driver option (not supported)")->allow_extra_args(false);
  c->callback(run([&ctx, create_args] { return create(ctx, *create_args); }));

  auto ls_args = std::make_shared<LsArgs>();
  auto* l = volume->add_subcommand("ls", "List volumes");
  l->alias("list");
  l->add_flag("-q,--quiet", ls_args->quiet, "Only volume names");
  l->add_option("--format", ls_args->format, "json");
  l->callback(run([&ctx, ls_args] { return ls(ctx, *ls_args); }));

  auto inspect_names = std::make_shared<std::vector<std::string>>();
  auto* in = volume->add_subcommand("inspect", "Show volumes as JSON");
  in->add_option("volume", *inspect_names)->required();
  in->callback(run([&ctx, inspect_names] { return inspect(ctx, *inspect_names); }));

  auto rm_names = std::make_shared<std::vector<std::string>>();
  auto rm_force = std::make_shared<bool>(false);
  auto* r = volume->add_subcommand("rm", "Remove volumes no container uses");
  r->alias("remove");
  r->add_option("volume", *rm_names)->required();
  r->add_flag("-f,--force", *rm_force, "No error for a volume that does not exist");
  r->callback(run([&ctx, rm_names, rm_force] { return rm(ctx, *rm_names, *rm_force); }));

  auto prune_force = std::make_shared<bool>(false);
  auto* p = volume->add_subcommand("prune", "Remove all volumes no container uses");
  p->add_flag("-f,--force", *prune_force, "Do not ask for confirmation");
  p->add_flag("-a,--all")->description("accepted for docker compatibility: every unused volume goes");
  p->callback(run([&ctx, prune_force] { return prune(ctx, *prune_force); }));
}

}  // namespace zl::cli
