// HcsRuntime: Windows containers over the Host Compute Service, for zlayer.exe. Process
// isolation (a silo on the host kernel) or Hyper-V isolation (a utility VM per container, see
// uvm_layout.h); images as wclayer chains imported into <root>/layers; per container a scratch
// layer, an optional HCN endpoint, and a record in <root>/containers/<id>.json that says what
// removal must undo. Compute systems are created with ShouldTerminateOnLastHandleClosed, so a
// container lives while the `zlayer run` that made it holds its handle. Windows only; never run
// against a real HCS yet (see README).
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/windows/compute_system.h"
#include "runtime/windows/hcn_network.h"
#include "runtime/windows/portable/state.h"

namespace zl::win {

namespace fs = std::filesystem;

struct HcsConfig {
  fs::path root;  // default %ProgramData%\zlayer\hcs (ZLAYER_HCS_ROOT)
  Isolation default_isolation = Isolation::process;
  uint64_t scratch_size_gib = kDefaultScratchSizeGiB;
  std::string cluster_cidr{kDefaultClusterRange};
  std::optional<std::string> node_slice;  // this node's slice of the cluster range: networking on
  std::string adapter;                    // uplink for the overlay network (default: HCN's choice)
  static HcsConfig from_env();
};

struct RunOptions {
  std::string id;
  std::string image;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string workdir;
  std::optional<double> cpus;
  std::optional<int64_t> memory_bytes;
  std::optional<std::string> hostname;
  std::optional<Isolation> isolation;
  std::optional<std::string> address;  // in the node slice; with node_slice set
  std::optional<std::string> dns_server, dns_domain;
};

class HcsRuntime {
 public:
  // Creates the directories under root; does not need HCS (image listing works without it).
  static Result<std::unique_ptr<HcsRuntime>> open(HcsConfig config);

  // Terminates zlayer-owned compute systems no record knows and reaps orphan HCN endpoints.
  Result<std::string> reconcile();

  // Foreground: create, start, run argv with its output streamed, wait, shut down, remove.
  // The container's exit (SystemExited: ExitCode; ServiceDisconnect: -1, runtime_error).
  Result<HcsExit> run(const RunOptions& opts, const ProcessOutput& out);
  Result<int> exec(const std::string& id, const std::vector<std::string>& argv, const ProcessOutput& out);
  Status stop(const std::string& id, std::chrono::seconds timeout);
  Status kill(const std::string& id, const std::string& signal);
  // Removes a container's leftovers (scratch, endpoint, utility VM dir, record); a running one
  // only with force (terminated first).
  Status remove(const std::string& id, bool force);
  Result<WindowsStats> stats(const std::string& id);
  Result<std::vector<ContainerRecord>> list_records();
  // "running" (its compute system is up), "starting" (its `run` lives, no system yet), "stale"
  // (its `run` died: `reconcile` removes it) or "unknown" (no HCS here).
  std::string state(const ContainerRecord& r);
  Result<std::vector<ComputeSystemSummary>> list_systems();

  // Images: import extracted layer folders (base first) as `name`; list, tag, remove, prune.
  Status import_image(const std::string& name, const std::vector<fs::path>& layer_sources_base_first);
  Result<ImageIndex> images();
  Status tag_image(const std::string& source, const std::string& target);
  Status remove_image(const std::string& name);
  Result<int> prune_images();

  const HcsConfig& config() const { return config_; }

 private:
  explicit HcsRuntime(HcsConfig config) : config_(std::move(config)) {}
  fs::path record_path(const std::string& id) const { return config_.root / "containers" / (id + ".json"); }
  Result<ContainerRecord> record(const std::string& id);
  Status save_record(const ContainerRecord& r);
  Status save_images(const ImageIndex& idx);
  // Undoes what a record lists (utility VM and its directory unless kept, endpoint, scratch).
  Status teardown(const ContainerRecord& r, bool keep_uvm);
  Result<HcsExit> run_recorded(ContainerRecord& rec, const RunOptions& opts, const ProcessOutput& out);

  HcsConfig config_;
  std::unique_ptr<HcnNetwork> network_;
};

}  // namespace zl::win
