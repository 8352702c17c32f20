// One micro-VM as a qemu-system-x86_64 process: the `microvm` machine, no firmware, the
// prepared kernel + initramfs, three virtio-9p shares (the container's rootfs, the state share,
// the debug share) and a virtio-serial port on a unix socket for the agent. qemu daemonizes:
// the VM outlives the zlayer process that started it, like conmon does for a container.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "runtime/vm/vm_assets.h"

namespace zl::vm {

// Which accelerator VMs use here, and why (for `zlayer info` and the notice on TCG).
struct Accelerator {
  std::string name;    // "kvm" | "tcg"
  std::string reason;  // one line
};

// KVM when /dev/kvm can actually run our guest (probed once by booting the agent in probe mode,
// the verdict cached in the VM cache dir per kernel), else TCG. $ZLAYER_VM_ACCEL=kvm|tcg forces.
Accelerator select_accelerator(const VmAssets& assets);

struct QemuConfig {
  fs::path dir;      // the VM's directory: qemu.pid, agent.sock, console.log go here
  fs::path rootfs;   // shared as "rootfs"
  fs::path state;    // shared as "state" (guest-writable: config in, log and exit out)
  fs::path debug;    // shared as "debug" (guest-writable: boot diagnostics)
  std::string port;  // the virtio-serial port's name: the VM's runtime id
  int cpus = 1;
  int64_t memory_mib = 256;
  std::string accel = "tcg";
  std::optional<std::string> tap;  // a tap device (in qemu's network namespace) as virtio-net
  std::string mac;
  std::string extra_cmdline;  // appended to the kernel command line
  struct Share {
    std::string tag;
    fs::path path;
    bool read_only = false;
  };
  std::vector<Share> shares;  // more 9p shares: the container's bind mounts and volumes
};

// The qemu binary: $ZLAYER_VM_QEMU, else qemu-system-x86_64 from PATH.
std::string qemu_binary();
std::vector<std::string> qemu_argv(const VmAssets& assets, const QemuConfig& cfg);
inline fs::path pid_file(const fs::path& dir) {
  return dir / "qemu.pid";
}
// The agent's virtio-serial ports: one host call at a time on each, so an exec that runs long
// leaves the others for stop, kill and stats. Port i's socket is agent_socket_name(i) in the VM's dir.
constexpr int kAgentPorts = 4;
inline std::string agent_socket_name(int i) {
  return i == 0 ? "agent.sock" : "agent." + std::to_string(i) + ".sock";
}
inline fs::path console_log(const fs::path& dir) {
  return dir / "console.log";
}

// Starts the VM (qemu -daemonize: returns once its devices are up) and returns its pid.
// `netns`: a network namespace file qemu runs in (for its tap), or empty.
Result<int> launch_qemu(const VmAssets& assets, const QemuConfig& cfg, const fs::path& netns = {});

// The pid of the VM's qemu while it runs (its pid file names a process whose command line has
// that pid file's path: a reused pid is not taken for it); 0 otherwise.
int running_qemu(const fs::path& dir);
// SIGKILLs the VM's qemu if it runs and waits (up to 10 s) until it is gone.
Status kill_qemu(const fs::path& dir);

}  // namespace zl::vm
