// The Runtime interface: everything above it (CLI, agent, Docker API, CRI) runs containers
// only through these calls. Backends: LinuxRuntime (conmon + runc/crun), later a VM backend
// and the Windows HCS backend. Containers are named by id, unique id prefix or name.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/container.h"
#include "runtime/linux/cgroup_stats.h"
#include "runtime/linux/log_reader.h"

namespace zl {

struct ContainerStats {
  std::string id;
  CgroupStats cgroup;
  // Bytes through the container's interfaces but lo (its namespace's /proc/<pid>/net/dev); 0
  // with the host's network.
  uint64_t net_rx_bytes = 0, net_tx_bytes = 0;
  int64_t read_at_unix_nano = 0;
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Creates (does not start) a container from an image already in the image store.
  virtual Result<ContainerInfo> create_container(const ContainerSpec& spec) = 0;
  virtual Status start_container(const std::string& ref) = 0;
  // The stop signal, then SIGKILL after `timeout` (default: the spec's, else 10 s).
  virtual Status stop_container(const std::string& ref, std::optional<std::chrono::seconds> timeout = {}) = 0;
  // Signal by name ("TERM", "SIGTERM") or number ("15"); invalid names are invalid_argument.
  virtual Status kill_container(const std::string& ref, const std::string& signal) = 0;
  virtual Status pause_container(const std::string& ref) = 0;
  virtual Status resume_container(const std::string& ref) = 0;
  // Refuses a running container (conflict) unless forced; tears down mounts, cgroups, files.
  virtual Status remove_container(const std::string& ref, bool force) = 0;

  virtual Result<ContainerInfo> inspect_container(const std::string& ref) = 0;
  // Records the health a supervisor judged (shown by inspect as ContainerInfo::health until the
  // next record; gone with the container).
  virtual Status set_container_health(const std::string& ref, const ContainerHealth& health) = 0;
  virtual Result<std::vector<ContainerInfo>> list_containers() = 0;
  // Blocks until the container has exited (returns at once if it has); timeout -> nullopt.
  virtual Result<std::optional<ExitInfo>> wait_container(
      const std::string& ref, std::optional<std::chrono::milliseconds> timeout = {}) = 0;

  virtual Result<ExecResult> exec(const std::string& ref, ExecOptions opts) = 0;
  virtual Status exec_stream(const std::string& ref, ExecOptions opts,
                             const std::function<Status(const ExecEvent&)>& on_event) = 0;
  // With a pty between the process and io (the caller's terminal by default).
  virtual Result<int> exec_interactive(const std::string& ref, ExecOptions opts, const TerminalIo& io = {}) = 0;
  // Connects `io` to the container's stdio (see AttachIo; input only if it was created with
  // open_stdin, a tty if it has one) and copies until the container has exited and its output is
  // drained; wait_container then has the exit. With `start` the container is started once
  // connected (an exited one runs again), so none of its output is missed: `run -i`, `start -ai`.
  virtual Status attach_container(const std::string& ref, AttachIo io, bool start = false) = 0;
  virtual Status container_logs(const std::string& ref, LogQuery query,
                                const std::function<Status(const LogEntry&)>& sink) = 0;
  virtual Result<ContainerStats> container_stats(const std::string& ref) = 0;
  // The container's address on its primary network (that of the container whose namespace it
  // shares, with container:<x>). not_found when it has none (network none), unsupported with
  // the host's network.
  virtual Result<std::string> container_ip(const std::string& ref) = 0;
  // A replica's service names ("<service>", "<service>.service.local"; see kServiceLabel) on
  // its networks: answered by their DNS servers (published) or not.
  virtual Status set_service_names(const std::string& ref, bool published) = 0;
  // `docker network connect|disconnect`: one more network for a container of the bridge mode,
  // on the next free ethN, live when it runs (with `aliases` as more names there); or one less.
  virtual Status connect_network(const std::string& ref, const std::string& network,
                                 const std::vector<std::string>& aliases) = 0;
  virtual Status disconnect_network(const std::string& ref, const std::string& network) = 0;
};

}  // namespace zl
