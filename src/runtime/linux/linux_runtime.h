// The Linux backend of Runtime: an overlay rootfs over the image's shared layers, an OCI
// bundle, and conmon + runc/crun to run it. All state is on disk under <root>/containers,
// so any number of zlayer processes (CLI, daemon) can work on it side by side.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/network_manager.h"
#include "runtime/container_store.h"
#include "runtime/event_log.h"
#include "runtime/runtime.h"
#include "store/image_store.h"
#include "store/volume_store.h"

namespace zl {

// A container's files as its processes see them, for copying in and out (`docker cp`).
struct ContainerRoot {
  ContainerInfo container;
  std::optional<FileLock> lock;   // a stopped container's: it neither starts nor goes meanwhile
  std::shared_ptr<void> mounted;  // unmounts the rootfs mounted for this, when it goes
  UniqueFd fd;                    // the root directory
};

struct LinuxRuntimeOptions {
  std::string oci_runtime = "auto";  // "auto", "runc", "crun" or a path
  net::NetConfig net;                // cluster range, node subnet, bridge names
};

class LinuxRuntime : public Runtime {
 public:
  LinuxRuntime(fs::path root, ImageStore& images, LinuxRuntimeOptions opts = {});

  // The OCI runtime in use (selected on first need; "auto" probes once and caches).
  Result<OciRuntime> oci_runtime();
  // Networks and container attachments under root. On first use in this process, what a crash
  // left connected (namespaces, addresses, rules of containers that no longer exist) is reaped.
  Result<net::NetworkManager*> network();
  // For `rmi`: does any container use the image with this config digest?
  bool image_in_use(const Digest& config_digest) const;
  ContainerStore& containers() { return containers_; }
  // Container events (`docker events`) are recorded here as the actions happen; image events by
  // whoever pulls, tags or removes images.
  const EventLog& events() const { return events_; }
  VolumeStore& volumes() { return volumes_; }
  // Volume name -> the names of the containers (any state) whose mounts use it.
  Result<std::map<std::string, std::vector<std::string>>> volume_users() const;
  // For `rm -v` once the container is gone: removes the anonymous volumes of its spec that no
  // other container uses (an auto_remove container's go with it in remove_container).
  Status remove_anonymous_volumes(const ContainerSpec& spec);
  // The root of the container's process (its volumes and other mounts in place) while it has
  // one, else its overlay rootfs, mounted for as long as the ContainerRoot lives if it was not.
  Result<ContainerRoot> open_root(const std::string& ref);
  // A new name (unique: conflict when another container has it); the old one is free at once.
  Status rename_container(const std::string& ref, const std::string& new_name);
  // Resizes the terminal of a container created with a tty (through conmon's ctl fifo).
  Status resize_container(const std::string& ref, unsigned short rows, unsigned short cols);

  Result<ContainerInfo> create_container(const ContainerSpec& spec) override;
  Status start_container(const std::string& ref) override;
  Status stop_container(const std::string& ref, std::optional<std::chrono::seconds> timeout = {}) override;
  Status kill_container(const std::string& ref, const std::string& signal) override;
  Status pause_container(const std::string& ref) override;
  Status resume_container(const std::string& ref) override;
  Status remove_container(const std::string& ref, bool force) override;
  Result<ContainerInfo> inspect_container(const std::string& ref) override;
  Status set_container_health(const std::string& ref, const ContainerHealth& health) override;
  Result<std::vector<ContainerInfo>> list_containers() override;
  Result<std::optional<ExitInfo>> wait_container(const std::string& ref,
                                                 std::optional<std::chrono::milliseconds> timeout = {}) override;
  Result<ExecResult> exec(const std::string& ref, ExecOptions opts) override;
  Status exec_stream(const std::string& ref, ExecOptions opts,
                     const std::function<Status(const ExecEvent&)>& on_event) override;
  Result<int> exec_interactive(const std::string& ref, ExecOptions opts, const TerminalIo& io = {}) override;
  Status attach_container(const std::string& ref, AttachIo io, bool start = false) override;
  Status container_logs(const std::string& ref, LogQuery query,
                        const std::function<Status(const LogEntry&)>& sink) override;
  Result<ContainerStats> container_stats(const std::string& ref) override;
  Result<std::string> container_ip(const std::string& ref) override;
  Status set_service_names(const std::string& ref, bool published) override;
  Status connect_network(const std::string& ref, const std::string& network,
                         const std::vector<std::string>& aliases) override;
  Status disconnect_network(const std::string& ref, const std::string& network) override;

 private:
  Result<ConmonRuntime*> driver();
  // A container event with docker's attributes (name, image, and `extra`).
  void record_event(const std::string& action, const ContainerInfo& c,
                    std::map<std::string, std::string> extra = {}) const;
  // Makes `c` read as exited with `exit`, and records its "die" event the first time any process
  // sees that exit (once per run: a marker in the exit dir, which a restart clears).
  void mark_exited(ContainerInfo& c, const ExitInfo& exit) const;
  // state.json as saved, or rebuilt (and saved again) when a crash left it torn.
  Result<ContainerRunState> load_or_repair_state(const ContainerRecord& rec);
  // The container's state now, from its files, conmon's exit file and the process table.
  Result<ContainerInfo> info(const std::string& id);
  // Records the exit in state.json once conmon has written it.
  Result<std::optional<ExitInfo>> settle_exit(const std::string& id, ContainerInfo& c);
  Result<ContainerInfo> running(const std::string& ref, std::string_view action);
  Status stop_locked(const ContainerInfo& c, std::chrono::seconds timeout);
  // An exited container made ready to run again (a fresh conmon; `st` says created, not saved).
  Status recreate_locked(const ContainerInfo& c, ContainerRunState& st);
  // Before attaching to a container that is to start: an exited one gets recreated.
  Status prepare_to_start(const std::string& id);
  Status teardown(const std::string& id, const std::string& name);
  // The network manager without the reaping (for reading records).
  net::NetworkManager& net_manager();
  // Does the container exist, or is it being created (its lock held)? For the reaper.
  bool container_present(const std::string& id) const;
  // Removes what creates that crashed left (ContainerStore::interrupted_create), before each
  // create and each list.
  void reap_interrupted_creates();
  // How the spec asks the container `id` to be connected (container:<x> resolved to x's namespace).
  Result<net::AttachRequest> network_request(const ContainerSpec& spec, const std::string& id);
  // The spec's volume mounts with the store locked: each volume created when missing (an unnamed
  // one gets a fresh name, written into `spec`), filled from the image when empty (docker's
  // copy-up). Returns spec.mounts with volume sources as host paths.
  Result<std::shared_ptr<void>> mount_volumes_for_copy(const ContainerSpec& spec, int root);
  Result<std::vector<Mount>> resolve_volumes(ContainerSpec& spec, const fs::path& rootfs,
                                             std::vector<std::string>& created_anonymous);

  fs::path root_;
  ImageStore& images_;
  LinuxRuntimeOptions opts_;
  ContainerStore containers_;
  VolumeStore volumes_;
  EventLog events_;
  // Made on first use, which in the daemon is on several pool threads at once.
  std::mutex driver_mu_, net_mu_, net_reap_mu_;
  std::unique_ptr<ConmonRuntime> driver_;
  std::unique_ptr<net::NetworkManager> net_;
  bool net_reaped_ = false;
};

}  // namespace zl
