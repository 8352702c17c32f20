// isolation: vm — a container in a micro-VM of its own (issue 10). LinuxRuntime keeps what every
// container has (record, name, overlay rootfs over the shared image layers, network, events, the
// container store that `ps`/`inspect`/`logs` read) and hands the VM's steps to this class, the
// way it hands a process container's to conmon: create, boot, signal, wait, exec, stats, remove.
//
// Per VM, <root>/vms/<id>/ holds: vm.json (runtime id = the virtio-serial ports' name, size),
// state/ (9p, guest-writable: config.json and /etc files in; ctr.log, exit out),
// debug/ (9p, guest-writable: the agent's boot log), crash/ (host-only: the console log of a VM
// that died without an exit status, e.g. a kernel panic), console.log, qemu.pid, agent*.sock,
// and the markers booted (qemu started), lost (gone without an exit status), failed.
// The rootfs reaches the guest as a 9p share of the container's overlay mount: image layers are
// shared read-only, the container's writes land in its own upper dir. Nothing lives only in
// memory: any zlayer process finds a VM again from its directory.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "net/attachment.h"
#include "runtime/container_spec.h"
#include "runtime/linux/conmon_runtime.h"
#include "runtime/vm/qemu.h"

namespace zl::vm {

// The label that asks for a VM ("vm"; "process" or none: namespaces on the host's kernel). A
// label like kServiceLabel, so every front end (CLI, deployment spec, Docker API) can ask.
inline constexpr const char* kIsolationLabel = "zlayer.isolation";
inline bool is_vm(const ContainerSpec& s) {
  auto it = s.labels.find(kIsolationLabel);
  return it != s.labels.end() && it->second == "vm";
}

class VmRuntime {
 public:
  explicit VmRuntime(fs::path vms_dir) : vms_dir_(std::move(vms_dir)) {}
  fs::path dir(const std::string& id) const { return vms_dir_ / id; }
  fs::path log(const std::string& id) const { return dir(id) / "state" / "ctr.log"; }

  // The accelerator VMs get here and why; an error when VMs cannot run at all (no kernel).
  static Result<Accelerator> accelerator();

  // Makes the VM's directory (nothing runs yet). On failure nothing is left (unless
  // ZLAYER_KEEP_VM_ON_FAILURE=1).
  Status create(const std::string& id, const ContainerPaths& paths, const ContainerSpec& spec);
  // Boots the VM; the agent starts the container's process (config.json of the bundle). A run
  // after an exit starts afresh (its exit goes, its log stays). With a bridge `network`, qemu
  // runs in the container's namespace with a tap that tc mirrors to and from its eth0, and the
  // guest's NIC takes eth0's MAC and address: the VM is reachable like any container.
  Status start(const std::string& id, const ContainerPaths& paths,
               const net::ContainerNetwork* network = nullptr);
  // The exit once the container's process has exited (the agent's exit file), or once the VM
  // is gone without one (recorded in crash/, a runtime_error saying why).
  Result<std::optional<ExitInfo>> exit_info(const std::string& id);
  // qemu's pid while the VM runs, else 0.
  int pid(const std::string& id) const { return running_qemu(dir(id)); }
  // A signal to the container's process (through the agent); SIGKILL ends the VM when the
  // agent cannot be reached.
  Status kill(const std::string& id, int sig);
  Result<std::optional<ExitInfo>> wait(const std::string& id,
                                       std::optional<std::chrono::milliseconds> timeout);
  // Freezes / thaws the whole VM (qemu's vCPUs, through QMP); paused() says whether it is frozen.
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  bool paused(const std::string& id) const;
  // Ends the VM and removes its directory: no process, socket or file stays. A VM that failed
  // keeps its directory with ZLAYER_KEEP_VM_ON_FAILURE=1.
  Status remove(const std::string& id);

  Result<ExecResult> exec(const std::string& id, const ExecOptions& opts);
  Status exec_stream(const std::string& id, const ExecOptions& opts,
                     const std::function<Status(const ExecEvent&)>& on_event);
  // attach of a VM's container: what its log gets from now on goes to io's fds (no input yet),
  // after `start` (if set), until `exited()` says so and the log is read to its end.
  Status attach(const std::string& id, const AttachIo& io, const std::function<Status()>& start,
                const std::function<bool()>& exited);
  // Memory as the guest counts it (the limit: the VM's size), cpu time of all its vCPUs, processes.
  Result<CgroupStats> stats(const std::string& id);

 private:
  // Marks the VM failed (for keep-on-failure) and ends it.
  void fail(const std::string& id, const std::string& why);
  fs::path vms_dir_;
};

// True when ZLAYER_KEEP_VM_ON_FAILURE=1.
bool keep_vm_on_failure();

}  // namespace zl::vm
