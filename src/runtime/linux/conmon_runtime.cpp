// The lifecycle commands of a conmon-run container that go straight to the OCI runtime: start,
// kill, pause, resume, state, delete; and its cgroup stats.
#include "runtime/linux/conmon_runtime.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "runtime/linux/container_files.h"
#include "runtime/linux/runc_direct.h"

namespace zl {

ConmonRuntime::ConmonRuntime(OciRuntime runtime, fs::path state_dir)
    : runtime_(std::move(runtime)),
      state_dir_(std::move(state_dir)),
      cli_(runtime_.name, runtime_.path, state_dir_) {}

Status ConmonRuntime::start(const std::string& id, const ContainerPaths& paths) {
  if (runtime_.name == "runc") {
    if (auto init = read_pid_file(paths.pidfile())) {
      auto direct = runc_start_direct(state_dir_ / id, *init);
      if (!direct) return tl::unexpected(direct.error().wrap("start container " + id));
      if (*direct) return {};
    }
  }
  ZL_TRY(cli_.run("start container", id, {"start", id}));
  return {};
}

Status ConmonRuntime::kill(const std::string& id, int signal) {
  if (signal <= 0 || signal > 64) return invalid_argument("kill container {}: bad signal {}", id, signal);
  ZL_TRY(cli_.run("kill container", id, {"kill", id, std::to_string(signal)}));
  return {};
}

Status ConmonRuntime::pause(const std::string& id) {
  ZL_TRY(cli_.run("pause container", id, {"pause", id}));
  return {};
}

Status ConmonRuntime::resume(const std::string& id) {
  ZL_TRY(cli_.run("resume container", id, {"resume", id}));
  return {};
}

Result<RuntimeStatus> ConmonRuntime::status(const std::string& id) {
  ZL_TRY_ASSIGN(auto out, cli_.run("state of container", id, {"state", id}));
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (!j.is_object() || !j.contains("status"))
    return internal("state of container {}: {} printed no state", id, runtime_.name);
  RuntimeStatus s;
  s.status = j.value("status", std::string());
  s.pid = j.value("pid", 0);
  return s;
}

Status ConmonRuntime::remove(const std::string& id, bool force) {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  if (auto r = cli_.run("remove container", id, args); !r && r.error().kind != ErrorKind::not_found) {
    return tl::unexpected(r.error());
  }
  return {};
}

Status ConmonRuntime::remove(const std::string& id, const ContainerPaths& paths, bool force) {
  // An OOM kill conmon missed can only be seen while the cgroup exists: record it first.
  auto exited = exit_info(id, paths);
  bool gone = false;
  if (exited && *exited && runtime_.name == "runc") {  // stopped: most often a few rmdirs do
    auto direct = runc_delete_stopped_direct(state_dir_ / id);
    gone = direct && *direct;
  }
  if (!gone) {
    ZL_TRY(remove(id, force));
    // A create killed before the runtime recorded its state leaves a cgroup no delete knows of.
    if (auto cgroup = container_cgroups_path(paths))
      if (auto st = remove_cgroup(*cgroup); !st) spdlog::warn("container {}: {}", id, st.error().message);
  }
  // With the container gone conmon records the exit and leaves; never leave one behind.
  return wait_for_monitor_exit(paths, std::chrono::seconds(5));
}

Result<CgroupStats> ConmonRuntime::stats(const ContainerPaths& paths) const {
  ZL_TRY_ASSIGN(auto cgroup, container_cgroups_path(paths));
  return read_cgroup_stats(cgroup);
}

}  // namespace zl
