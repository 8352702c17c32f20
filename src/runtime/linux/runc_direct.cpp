// runc start and delete done in-process; see runc_direct.h for when they apply.
#include "runtime/linux/runc_direct.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/linux/container_files.h"

namespace zl {

namespace {

using nlohmann::json;

// What runc records as init_process_start (field 22 of /proc/<pid>/stat) while the process lives.
std::optional<uint64_t> live_start_time(pid_t pid) {
  auto fields = live_proc_stat(pid);
  uint64_t start = 0;
  if (!fields || fields->size() < 20) return std::nullopt;
  const std::string& f = (*fields)[19];
  if (std::from_chars(f.data(), f.data() + f.size(), start).ec != std::errc()) return std::nullopt;
  return start;
}

// A hook list of runc's config ("Hooks": {"poststop": [...], ...}) that is not empty.
bool has_hooks(const json& config) {
  for (const char* key : {"Hooks", "hooks"}) {
    auto h = config.find(key);
    if (h == config.end() || !h->is_object()) continue;
    for (const auto& [_, list] : h->items())
      if (list.is_array() && !list.empty()) return true;
  }
  return false;
}

// The container has a PID namespace of its own: its processes died with its init.
bool own_pid_namespace(const json& config) {
  auto ns = config.find("namespaces");
  if (ns == config.end() || !ns->is_array()) return false;
  for (const auto& n : *ns)
    if (n.is_object() && n.value("type", "") == "NEWPID") return n.value("path", "").empty();
  return false;
}

// The steps of runc_delete_stopped_direct on state.json's text; json exceptions go to the caller.
Result<bool> delete_stopped(const fs::path& container_state_dir, const std::string& text) {
  json state = json::parse(text, nullptr, false);
  if (!state.is_object() || !state.contains("config") || !state["config"].is_object()) return false;
  const json& config = state["config"];
  int pid = state.value("init_process_pid", 0);
  if (pid > 0 && live_start_time(pid) == state.value("init_process_start", uint64_t{0})) return false;
  if (has_hooks(config) || !own_pid_namespace(config) || !state.value("intel_rdt_path", "").empty()) return false;
  auto cgroups = state.find("cgroup_paths");
  if (cgroups == state.end() || !cgroups->is_object()) return false;
  for (const auto& [controller, path] : cgroups->items()) {
    if (!path.is_string()) return false;
    std::string dir = path.get<std::string>();
    if (!dir.starts_with("/sys/fs/cgroup/") || dir.find("/../") != std::string::npos) return false;
    // Not empty or with children: EBUSY. runc delete --force then kills what is left and retries.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return false;
  }
  ZL_TRY(remove_tree(container_state_dir));
  return true;
}

}  // namespace

Result<bool> runc_start_direct(const fs::path& container_state_dir, pid_t init_pid) {
  fs::path fifo = container_state_dir / "exec.fifo";
  std::error_code ec;
  if (!fs::exists(container_state_dir / "state.json", ec)) return false;
  UniqueFd init(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0)));
  if (!init) return false;
  // Non-blocking: our open does not wait for the writer; poll sees its "0", then its end closing
  // (a fifo reader is told of a hangup only after a writer came).
  UniqueFd f(::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  struct stat st {};
  if (!f || ::fstat(f.get(), &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  std::string got;
  bool last_read = false;  // the init died, or its end closed: what it wrote is in the pipe now
  for (;;) {
    char buf[64];
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 && !got.empty()) break;  // the writer closed its end: the process was exec'd
    if (n < 0 && errno != EAGAIN && errno != EINTR) return errno_error(errno, "read " + fifo.string());
    if (last_read) break;  // and it wrote nothing
    pollfd p[2] = {{f.get(), POLLIN, 0}, {init.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return errno_error(errno, "wait for the container's init");
    last_read = (p[1].revents & POLLIN) != 0 || (p[0].revents & POLLHUP) != 0;
  }
  if (got.empty()) return unavailable("start container: its process is already dead");
  if (::unlink(fifo.c_str()) != 0 && errno != ENOENT) return errno_error(errno, "remove " + fifo.string());
  return true;
}

Result<bool> runc_delete_stopped_direct(const fs::path& container_state_dir) {
  auto text = read_file(container_state_dir / "state.json");
  if (!text) return false;
  try {
    return delete_stopped(container_state_dir, *text);
  } catch (const json::exception&) {  // a field of another type than runc 1.1 writes
    return false;
  }
}

}  // namespace zl
