// Runs OCI bundles the way podman and CRI-O do: one conmon per container holds its stdio,
// writes its log and exit file, and outlives zlayer; runc or crun does the namespaces and
// cgroups. Everything a container needs to be found again lives in its directory on disk.
//
// What conmon 2.1.6 does and what we add: the exit file holds one number (the code, or 128+N
// for signal N: see exit_file.h); OOM kills are noticed through memory.oom_control's eventfd (v1)
// or memory.events (v2) and marked by persist/oom, which we back with the cgroup's own oom_kill
// counter (container_exit.cpp); --log-size-max only truncates, so log_rotation.h keeps one old
// file. Exec does not go through conmon: zlayer waits for `<runtime> exec` itself (exec.cpp).
// Attach does: conmon's attach socket carries the container's stdio (attach.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "runtime/linux/cgroup_stats.h"
#include "runtime/linux/exit_file.h"
#include "runtime/linux/oci_cli.h"

namespace zl {

// The OCI runtime binary in use, and why it was chosen.
struct OciRuntime {
  std::string name;    // "runc" | "crun"
  std::string path;    // absolute path of the binary
  std::string reason;  // one line for `zlayer info` / errors: why this one (and why not the other)
};

// Picks the OCI runtime: `preference` is "auto", "runc", "crun" or a path. "auto" probes the
// candidates (crun, then runc) by creating and deleting a throwaway container (in a temp dir
// under state_dir, with its own runtime root), and caches each binary's verdict in
// state_dir/oci-runtime.json until the binary or the boot changes; a forced runtime that cannot
// work here is an error that says why (e.g. crun 1.8: "cgroups in hybrid mode not supported").
// state_dir is zlayer's state directory, not the runtime's --root.
Result<OciRuntime> select_oci_runtime(const std::string& preference, const fs::path& state_dir);

// Files of one container that conmon and the runtime write (all under the container's dir).
struct ContainerPaths {
  fs::path dir;                                       // <root>/containers/<id>
  fs::path bundle() const { return dir / "bundle"; }  // config.json + rootfs/ (+ conmon's sockets, fifos)
  fs::path config() const { return bundle() / "config.json"; }
  fs::path log() const { return dir / "ctr.log"; }  // conmon k8s-file log (+ ctr.log.1, see log_rotation.h)
  fs::path exit_dir() const { return dir / "exits"; }       // conmon writes <id> here
  fs::path persist_dir() const { return dir / "persist"; }  // conmon's oom marker etc.
  fs::path conmon_pidfile() const { return dir / "conmon.pid"; }
  fs::path pidfile() const { return dir / "pidfile"; }    // the container's init pid
  fs::path attach_socket() const { return bundle() / "attach"; }  // conmon's, see conmon_protocol.h
  fs::path ctl_fifo() const { return bundle() / "ctl"; }          // conmon's resize / log-reopen fifo
};

struct CreateOptions {
  std::string name;           // for conmon -n; the id when empty
  bool tty = false;           // process.terminal: conmon allocates the pty
  bool open_stdin = false;    // keep a stdin pipe for attach
  uint64_t log_size_max = 0;  // bytes per file; 0 = unlimited (rotation keeps one old file: ctr.log.1)
};

// What the OCI runtime says of a container right now (`runc state`).
struct RuntimeStatus {
  std::string status;  // "created", "running", "paused", "stopped"
  int pid = 0;
};

struct ExecOptions {
  std::vector<std::string> args;
  std::vector<std::string> env;                 // KEY=value, added to the container's
  std::string workdir;                          // empty: the container's
  std::string user;                             // "uid[:gid]" already resolved; empty: the container's
  bool tty = false;                             // exec/exec_stream: output through a pty, as stdout
  int stdin_fd = -1;                            // without tty: what the process reads (-1: nothing)
  std::optional<std::chrono::seconds> timeout;  // then the process is SIGKILLed: unavailable error
};

struct ExecResult {
  int exit_code = 0;
  std::string out, err;
};

// One event of a streamed exec: a chunk of stdout/stderr, or the exit (always last).
struct ExecEvent {
  enum class Kind { stdout_data, stderr_data, exit };
  Kind kind;
  std::string data;
  int exit_code = 0;
};

// The two ends of an interactive exec: the user's input and where the pty's output goes. When
// in_fd is a terminal it is put in raw mode and its size (and SIGWINCH changes) is passed on;
// otherwise the pty gets rows x cols. End of input sends the pty's EOF (^D).
struct TerminalIo {
  int in_fd = 0;
  int out_fd = 1;
  unsigned short rows = 24, cols = 80;
  // Told the pty's master once it exists, and -1 before it is closed: for resizes that come from
  // elsewhere than in_fd (the Docker API's exec resize).
  std::function<void(int master_fd)> on_pty;
};

// Our ends of an attached container's stdio. in_fd -1 sends no input (the container's stdin stays
// as it is); end of input closes the container's stdin (with a tty, sends ^D first). With tty (the
// container has one: process.terminal) all output goes to out_fd; a terminal in_fd is put in raw
// mode, and the size of our terminal (in_fd's or out_fd's) is passed on, then on every SIGWINCH.
struct AttachIo {
  int in_fd = 0;
  int out_fd = 1;
  int err_fd = 2;
  bool tty = false;
};

class ConmonRuntime {
 public:
  // state_dir: the OCI runtime's --root (e.g. <root>/run/runc), per zlayer root.
  ConmonRuntime(OciRuntime runtime, fs::path state_dir);
  const OciRuntime& oci() const { return runtime_; }

  // Starts conmon, which runs `<runtime> create`; returns once the container exists (its init
  // pid is in paths.pidfile()) or with the runtime's own error message. The bundle must be in
  // paths.bundle(); the other files and dirs are made here.
  Status create(const std::string& id, const ContainerPaths& paths, const CreateOptions& opts);
  // Starts a created container (runc's start is done in-process: see runc_direct.h).
  Status start(const std::string& id, const ContainerPaths& paths);
  Status kill(const std::string& id, int signal);
  Status pause(const std::string& id);
  Status resume(const std::string& id);
  // `<runtime> delete [--force]`: afterwards the runtime has no state for it, its cgroup is gone
  // and its conmon has exited (an OOM kill is recorded first, while the cgroup still says so).
  // An exited container of runc's is most often removed in-process (runc_direct.h).
  // A container the runtime no longer knows is not an error. The container's dir stays.
  Status remove(const std::string& id, const ContainerPaths& paths, bool force);
  // Only the `<runtime> delete [--force]` part of the above (no OOM record, no wait for conmon).
  Status remove(const std::string& id, bool force);
  // not_found when the runtime does not know the container.
  Result<RuntimeStatus> status(const std::string& id);
  // cpu/memory/pids/io of the container's cgroup (linux.cgroupsPath of its config.json).
  Result<CgroupStats> stats(const ContainerPaths& paths) const;

  // The exit conmon recorded, if the container has exited (exit file + oom marker, with an OOM
  // check of the cgroup where conmon missed it). runtime_error when conmon died without one.
  Result<std::optional<ExitInfo>> exit_info(const std::string& id, const ContainerPaths& paths) const;
  // Blocks until the exit is recorded (a pidfd on conmon, which writes the exit file and then
  // leaves; inotify on the exit dir while there is no conmon to watch; no polling loop) or the
  // timeout passes (nullopt).
  Result<std::optional<ExitInfo>> wait(const std::string& id, const ContainerPaths& paths,
                                       std::optional<std::chrono::milliseconds> timeout = {}) const;
  // Is this container's conmon still alive?
  bool monitor_alive(const ContainerPaths& paths) const;

  // Runs a process in a running container (`<runtime> exec`, zlayer waits) and collects its
  // output. A missing binary exits 127 and a non-executable one 126, with the runtime's message
  // on stderr, like docker. A container that is not running is a conflict error.
  Result<ExecResult> exec(const std::string& id, const ExecOptions& opts);
  // The same, streaming events as they come; `on_event` returning an error stops the exec.
  Status exec_stream(const std::string& id, const ExecOptions& opts,
                     const std::function<Status(const ExecEvent&)>& on_event);
  // Interactive exec with a real pty (the runtime's, inside the container), wired to `io`
  // (our own stdin/stdout by default, for `zlayer exec -it`). Returns the exit code.
  Result<int> exec_interactive(const std::string& id, const ExecOptions& opts, const TerminalIo& io = {});

  // Connects `io` to the container's stdio through conmon's attach socket, calls `attached` (if
  // set: e.g. to start the container, so none of its output is missed), then copies until conmon
  // hangs up: the container has exited and its output is drained (wait() then has the exit).
  // unavailable when no conmon listens (the container is not created or has exited).
  Status attach(const ContainerPaths& paths, const AttachIo& io,
                const std::function<Status()>& attached = {});
  // Resizes the pty of a container created with a tty (a line to conmon's ctl fifo).
  // unavailable when no conmon reads the fifo.
  Status resize(const ContainerPaths& paths, unsigned short rows, unsigned short cols);

 private:
  OciRuntime runtime_;
  fs::path state_dir_;
  OciCli cli_;
};

}  // namespace zl
