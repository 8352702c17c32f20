// zlayer.exe: the Windows build of the zlayer CLI, over HcsRuntime (Windows containers through
// the Host Compute Service). The commands that have a Windows meaning; the rest of zlayer (the
// daemon, registry pulls, the Docker API) is the Linux build's. Errors: "zlayer: <message>".
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <set>

#include "runtime/windows/hcs_runtime.h"
#include "runtime/windows/win_util.h"
#include "spec/quantity.h"

namespace {

using namespace zl;
using namespace zl::win;

int fail(const Error& e) {
  std::fprintf(stderr, "zlayer: %s\n", e.message.c_str());
  return e.kind == ErrorKind::invalid_argument ? 2 : 1;
}

void write_out(FILE* f, std::string_view s) {
  std::fwrite(s.data(), 1, s.size(), f);
  std::fflush(f);
}

// Ctrl-C during `run`: shut the container down (then terminate) so `run` ends and cleans up; if
// there is nothing to stop yet, the default handler ends the process (`reconcile` cleans up).
HcsRuntime* g_runtime = nullptr;
std::string g_running;
BOOL WINAPI on_console_ctrl(DWORD type) {
  if ((type != CTRL_C_EVENT && type != CTRL_BREAK_EVENT) || !g_runtime) return FALSE;
  return g_runtime->stop(g_running, std::chrono::seconds(10)) ? TRUE : FALSE;
}

ProcessOutput terminal() {
  return {[](std::string_view s) { write_out(stdout, s); }, [](std::string_view s) { write_out(stderr, s); }};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zlayer (Windows): containers over the Host Compute Service"};
  app.require_subcommand(1);
  app.allow_windows_style_options(false);  // "/c" is cmd's, not ours
  HcsConfig config = HcsConfig::from_env();
  std::string root;
  app.add_option("--root", root, "state directory (default %ProgramData%\\zlayer\\hcs, or ZLAYER_HCS_ROOT)");
  std::function<int(HcsRuntime&)> action;
  bool needs_runtime = true;

  auto* info =
      app.add_subcommand("info", "Whether this host has HCS, HCN and HCS storage, and the state directory");
  info->callback([&] { needs_runtime = false; });

  RunOptions run;
  std::string memory, isolation;
  auto* run_cmd =
      app.add_subcommand("run", "Run a command in a new container, in the foreground; exits with its code");
  run_cmd->add_option("--name", run.id, "container name")->required();
  run_cmd->add_option("--cpus", run.cpus, "processors (fractions round up)");
  run_cmd->add_option("--memory,-m", memory, "memory limit (512Mi, 1Gi)");
  run_cmd->add_option("--hostname", run.hostname, "host name (default: the name)");
  run_cmd->add_option("--isolation", isolation, "process (default) or hyperv");
  run_cmd->add_option("--ip", run.address, "address in the node slice (needs ZLAYER_NODE_SLICE)");
  run_cmd->add_option("--dns", run.dns_server, "DNS server for the container");
  run_cmd->add_option("--dns-domain", run.dns_domain, "DNS domain and search suffix");
  run_cmd->add_option("--workdir,-w", run.workdir, "working directory in the container");
  std::vector<std::string> env;
  run_cmd->add_option("--env,-e", env, "KEY=VALUE");
  run_cmd->add_option("image", run.image, "image (imported with `zlayer image import`), then the command")
      ->required();
  run_cmd->prefix_command();  // the command and its arguments, options included, are the container's
  run_cmd->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      run.argv = run_cmd->remaining();
      if (!memory.empty()) {
        auto bytes = spec::parse_memory_size(memory);
        if (!bytes) return fail(bytes.error());
        run.memory_bytes = *bytes;
      }
      if (!isolation.empty()) {
        auto iso = parse_isolation(isolation);
        if (!iso) return fail(iso.error());
        run.isolation = *iso;
      }
      for (const auto& kv : env) {
        auto eq = kv.find('=');
        if (eq == std::string::npos)
          return fail(Error{ErrorKind::invalid_argument, "--env " + kv + ": want KEY=VALUE"});
        run.env[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      g_runtime = &rt;
      g_running = run.id;
      SetConsoleCtrlHandler(on_console_ctrl, TRUE);
      auto exit = rt.run(run, terminal());
      SetConsoleCtrlHandler(on_console_ctrl, FALSE);
      if (!exit) return fail(exit.error());
      if (exit->reason == ExitReason::runtime_error)
        std::fprintf(stderr, "zlayer: %s: the compute service went away (runtime_error)\n", run.id.c_str());
      return exit->code;
    };
  });

  std::string id;
  std::vector<std::string> exec_argv;
  auto* exec = app.add_subcommand("exec", "Run a command in a running container; stdout and stderr streamed");
  exec->add_option("container", id, "container, then the command")->required();
  exec->prefix_command();
  exec->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      exec_argv = exec->remaining();
      auto code = rt.exec(id, exec_argv, terminal());
      return code ? *code : fail(code.error());
    };
  });

  int timeout = 10;
  auto* stop = app.add_subcommand("stop", "Shut a container down (TimeoutSeconds), then terminate it");
  stop->add_option("container", id)->required();
  stop->add_option("--time,-t", timeout, "seconds before terminating");
  stop->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto s = rt.stop(id, std::chrono::seconds(timeout));
      return s ? 0 : fail(s.error());
    };
  });

  std::string signal = "KILL";
  auto* kill =
      app.add_subcommand("kill", "Terminate a container (any valid signal means terminate on Windows)");
  kill->add_option("container", id)->required();
  kill->add_option("--signal,-s", signal, "signal name or number (validated)");
  kill->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto s = rt.kill(id, signal);
      return s ? 0 : fail(s.error());
    };
  });

  bool force = false;
  auto* rm = app.add_subcommand("rm", "Remove a container's scratch layer, endpoint, utility VM and record");
  rm->add_option("container", id)->required();
  rm->add_flag("--force,-f", force, "terminate it first if it runs");
  rm->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto s = rt.remove(id, force);
      return s ? 0 : fail(s.error());
    };
  });

  auto* ps = app.add_subcommand("ps", "List containers (records) and the compute systems zlayer owns");
  ps->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto recs = rt.list_records();
      if (!recs) return fail(recs.error());
      constexpr std::string_view kRow = "{:<24} {:<10} {:<28} {:<9} {:<15} {}\n";
      std::cout << fmt::format(kRow, "NAME", "STATE", "IMAGE", "ISOLATION", "ADDRESS", "COMMAND");
      std::set<std::string> known;
      for (const auto& r : *recs) {
        known.insert(r.id);
        known.insert(r.id + "-uvm");
        std::string cmd;
        for (const auto& a : r.command) cmd += (cmd.empty() ? "" : " ") + a;
        std::cout << fmt::format(kRow, r.id, rt.state(r), r.image, to_string(r.isolation), r.address, cmd);
      }
      // Compute systems zlayer owns that no record knows: `zlayer reconcile` terminates them.
      if (auto systems = rt.list_systems())
        for (const auto& z : zombie_systems(*systems, kOwner, known))
          std::cout << fmt::format(kRow, z, "zombie", "", "", "", "");
      return 0;
    };
  });

  auto* inspect =
      app.add_subcommand("inspect", "A container's record (what removal undoes) and state, as JSON");
  inspect->add_option("container", id)->required();
  inspect->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto recs = rt.list_records();
      if (!recs) return fail(recs.error());
      for (const auto& r : *recs) {
        if (r.id != id) continue;
        auto j = r.to_json();
        j["state"] = rt.state(r);
        std::cout << j.dump(2) << "\n";
        return 0;
      }
      return fail(Error{ErrorKind::not_found, "no container " + id});
    };
  });

  auto* stats = app.add_subcommand("stats", "CPU (us), memory (private working set) and I/O of a container");
  stats->add_option("container", id)->required();
  stats->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto s = rt.stats(id);
      if (!s) return fail(s.error());
      std::string limit = s->memory_limit == kUnlimitedMemory ? "unlimited" : std::to_string(s->memory_limit);
      std::cout << fmt::format(
          "cpu_usage_usec {}\nmemory_bytes {}\nmemory_limit {}\nread_bytes {}\nwrite_bytes {}\n",
          s->cpu_usage_usec, s->memory_bytes, limit, s->read_bytes, s->write_bytes);
      return 0;
    };
  });

  auto* logs = app.add_subcommand("logs", "The output `run` kept of a container");
  logs->add_option("container", id)->required();
  logs->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto text = read_file(rt.config().root / "containers" / (id + ".log"));
      if (!text) return fail(text.error());
      write_out(stdout, *text);
      return 0;
    };
  });

  auto* reconcile =
      app.add_subcommand("reconcile", "Terminate zombie compute systems; reap orphan HCN endpoints");
  reconcile->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      auto r = rt.reconcile();
      if (!r) return fail(r.error());
      std::cout << *r << "\n";
      return 0;
    };
  });

  auto* image = app.add_subcommand("image", "Windows images (wclayer chains)");
  image->require_subcommand(1);
  std::string name, target;
  std::vector<std::string> sources;
  auto* import = image->add_subcommand("import", "Import extracted layer folders, base first, as an image");
  import->add_option("name", name)->required();
  import->add_option("layers", sources, "layer folders, base first")->required();
  import->callback([&] {
    action = [&](HcsRuntime& rt) -> int {
      std::vector<fs::path> paths(sources.begin(), sources.end());
  auto s = rt.import_image(name, paths);
  return s ? 0 : fail(s.error());
};
});
auto* ls = image->add_subcommand("ls", "List images");
ls->callback([&] {
  action = [&](HcsRuntime& rt) -> int {
    auto idx = rt.images();
    if (!idx) return fail(idx.error());
    std::cout << fmt::format("{:<40} {}\n", "IMAGE", "LAYERS");
    for (const auto& [n, chain] : idx->images()) std::cout << fmt::format("{:<40} {}\n", n, chain.size());
    return 0;
  };
});
auto* tag = image->add_subcommand("tag", "Give an image another name");
tag->add_option("source", name)->required();
tag->add_option("target", target)->required();
tag->callback([&] {
  action = [&](HcsRuntime& rt) -> int {
    auto s = rt.tag_image(name, target);
    return s ? 0 : fail(s.error());
  };
});
auto* irm = image->add_subcommand("rm", "Remove an image name (its layers go with prune)");
irm->add_option("name", name)->required();
irm->callback([&] {
  action = [&](HcsRuntime& rt) -> int {
    auto s = rt.remove_image(name);
    return s ? 0 : fail(s.error());
  };
});
auto* prune = image->add_subcommand("prune", "Destroy layers no image or container uses");
prune->callback([&] {
  action = [&](HcsRuntime& rt) -> int {
    auto n = rt.prune_images();
    if (!n) return fail(n.error());
    std::cout << "removed " << *n << " layer(s)\n";
    return 0;
  };
});
auto* pull = app.add_subcommand("pull", "Not in the Windows build: pull on Linux, then import");
pull->allow_extras();
pull->callback([&] { needs_runtime = false; });

try {
  app.parse(argc, argv);
} catch (const CLI::ParseError& e) {
  return app.exit(e);
}
if (!root.empty()) config.root = root;
if (!needs_runtime) {
  if (info->parsed()) {
    std::cout << "state directory: " << config.root.string() << "\n";
    auto report = [](const char* what, const Status& s) {
      std::cout << what << ": " << (s ? std::string("available") : s.error().message) << "\n";
    };
    auto hcs = hcs_api();
    report("HCS (computecore.dll)", hcs ? Status{} : Status{tl::unexpected(hcs.error())});
    auto hcn = hcn_api();
    report("HCN (computenetwork.dll)", hcn ? Status{} : Status{tl::unexpected(hcn.error())});
    auto st = hcs_storage_api();
    report("HCS storage (computestorage.dll)", st ? Status{} : Status{tl::unexpected(st.error())});
    auto vd = virtdisk_api();
    report("virtual disks (virtdisk.dll)", vd ? Status{} : Status{tl::unexpected(vd.error())});
    return hcs ? 0 : 1;
  }
  return fail(Error{
      ErrorKind::unsupported,
      "pull is not supported by the Windows build yet: extract the layers and use `zlayer image import`"});
}
auto rt = HcsRuntime::open(config);
if (!rt) return fail(rt.error());
return action(**rt);
}
