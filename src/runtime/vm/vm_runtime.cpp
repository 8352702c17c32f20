#include "runtime/vm/vm_runtime.h"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/subprocess.h"
#include "runtime/container_store.h"
#include "runtime/linux/log_reader.h"
#include "runtime/vm/agent_client.h"

namespace zl::vm {

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr int64_t kMiB = 1024 * 1024;
constexpr auto kAgentTimeout = 15s;  // a VM just started may still be booting (~2-3 s on TCG)

struct VmFile {
  std::string runtime_id;  // the virtio-serial port's name: unique per VM
  int64_t memory_mib = 256;
  int cpus = 1;
};

Result<VmFile> load_vm_file(const fs::path& dir) {
  ZL_TRY_ASSIGN(auto text, read_file(dir / "vm.json"));
  try {
    auto j = json::parse(text);
    return VmFile{j.at("runtime_id").get<std::string>(), j.at("memory_mib").get<int64_t>(),
                  j.at("cpus").get<int>()};
  } catch (const std::exception& e) {
    return corrupt("{}: {}", (dir / "vm.json").string(), e.what());
  }
}

int64_t mtime_ns(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

Status copy_if_present(const fs::path& from, const fs::path& to) {
  auto data = read_file(from);
  if (!data)
    return data.error().kind == ErrorKind::not_found ? Status{} : Status(tl::unexpected(data.error()));
  return write_file_atomic(to, *data, 0644, Sync::atomic);
}

// "uid[:gid]" as ExecOptions has it.
std::pair<std::optional<unsigned>, std::optional<unsigned>> parse_user(const std::string& user) {
  std::pair<std::optional<unsigned>, std::optional<unsigned>> out;
  if (user.empty()) return out;
  auto colon = user.find(':');
  try {
    out.first = static_cast<unsigned>(std::stoul(user.substr(0, colon)));
    if (colon != std::string::npos) out.second = static_cast<unsigned>(std::stoul(user.substr(colon + 1)));
  } catch (const std::exception&) {
  }
  return out;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool keep_vm_on_failure() {
  const char* env = std::getenv("ZLAYER_KEEP_VM_ON_FAILURE");
  return env && std::string_view(env) == "1";
}

Result<Accelerator> VmRuntime::accelerator() {
  ZL_TRY_ASSIGN(auto assets, load_vm_assets());
  return select_accelerator(assets);
}

Status VmRuntime::create(const std::string& id, const ContainerPaths& /*paths*/, const ContainerSpec& spec) {
  fs::path d = dir(id);
  ZL_TRY(make_dirs(vms_dir_, 0700));
  bool done = false;
  struct Undo {
    std::function<void()> f;
    ~Undo() { f(); }
  } undo{[&] {
    if (done) return;
    if (keep_vm_on_failure()) {
      (void)write_file_atomic(d / "failed", "create failed\n", 0600, Sync::atomic);
      spdlog::warn("VM of container {} failed to be created; kept for inspection in {}", id.substr(0, 12),
                   d.string());
      return;
    }
    (void)remove_tree(d);
  }};
  for (const char* sub : {"state", "debug"}) ZL_TRY(make_dirs(d / sub, 0755));
  ZL_TRY(make_dirs(d / "crash", 0700));
  VmFile vm{.runtime_id = "zlayer." + new_container_id().substr(0, 16)};
  if (spec.resources.memory && *spec.resources.memory > 0)
    vm.memory_mib = std::max<int64_t>(64, (*spec.resources.memory + kMiB - 1) / kMiB);
  if (spec.resources.cpus && *spec.resources.cpus > 0) {
    int host = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    vm.cpus = std::min(host, static_cast<int>(std::ceil(*spec.resources.cpus)));
  }
  json j{{"runtime_id", vm.runtime_id}, {"memory_mib", vm.memory_mib}, {"cpus", vm.cpus}};
  ZL_TRY(write_file_atomic(d / "vm.json", j.dump(2), 0600));
  done = true;
  return {};
}

void VmRuntime::fail(const std::string& id, const std::string& why) {
  (void)write_file_atomic(dir(id) / "failed", why + "\n", 0600, Sync::atomic);
  if (auto st = kill_qemu(dir(id)); !st) spdlog::warn("{}", st.error().message);
}

namespace {

// In the container's namespace: tap0 for qemu, and tc mirred rules that pass every frame from
// eth0 to tap0 and back (the Kata Containers way): the guest's NIC stands in for eth0.
Result<std::string> join_tap(const std::string& netns) {
  auto in_ns = [&](std::vector<std::string> argv, const std::string& script) -> Status {
    argv.insert(argv.begin(), {"nsenter", "--net=" + netns, "--"});
    ZL_TRY_ASSIGN(auto r, run_process(argv, SubprocessOptions{.stdin_data = script, .timeout = 10s}));
    if (!r.ok()) return unavailable("{}: {}", argv[3], r.describe());
    return {};
  };
  // (-force: a restart finds them made already; the batch goes on.)
  (void)in_ns({"ip", "-force", "-batch", "-"}, "link del tap0\n");
  ZL_TRY(in_ns({"ip", "-batch", "-"}, "tuntap add dev tap0 mode tap\nlink set tap0 up\n"));
  (void)in_ns({"tc", "-force", "-batch", "-"}, "qdisc del dev eth0 ingress\n");
  ZL_TRY(in_ns({"tc", "-batch", "-"},
               "qdisc add dev eth0 ingress\n"
               "filter add dev eth0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect "
               "dev tap0\n"
               "qdisc add dev tap0 ingress\n"
               "filter add dev tap0 parent ffff: protocol all u32 match u8 0 0 action mirred egress redirect "
               "dev eth0\n"));
  // eth0's MAC, which the guest's NIC takes (frames for it now reach the guest).
  ZL_TRY_ASSIGN(auto link,
                run_process({"nsenter", "--net=" + netns, "--", "ip", "-o", "link", "show", "eth0"}));
  auto at = link.out.find("link/ether ");
  if (!link.ok() || at == std::string::npos) return unavailable("no MAC address of eth0 in {}", netns);
  return link.out.substr(at + 11, 17);
}

// The container's bind mounts of directories and its tmpfs mounts (from config.json), for the
// agent's mounts.json and qemu's extra shares. /etc files are the agent's; the OCI defaults
// (/proc, /dev, ...) are the guest's own.
Result<json> user_mounts(const fs::path& config, std::vector<QemuConfig::Share>& shares) {
  json out = json::array();
  ZL_TRY_ASSIGN(auto text, read_file(config));
  json cfg;
  try {
    cfg = json::parse(text);
  } catch (const std::exception& e) {
    return corrupt("{}: {}", config.string(), e.what());
  }
  static const std::set<std::string> guest_own = {
      "/proc", "/dev",           "/dev/pts",   "/dev/shm",      "/dev/mqueue",
      "/sys",  "/sys/fs/cgroup", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"};
  for (const auto& m : cfg.value("mounts", json::array())) {
    std::string target = m.value("destination", ""), type = m.value("type", "");
    if (target.empty() || guest_own.count(target)) continue;
    auto options = m.value("options", std::vector<std::string>{});
    bool ro = std::find(options.begin(), options.end(), "ro") != options.end();
    if (type == "bind") {
      std::error_code ec;
      fs::path source = m.value("source", "");
      if (!fs::is_directory(source, ec)) {
        spdlog::warn("VM mount {}: only directories reach a VM (9p), not {}", target, source.string());
        continue;
      }
      std::string tag = fmt::format("m{}", shares.size());
      shares.push_back({tag, source, ro});
      out.push_back({{"kind", "9p"}, {"tag", tag}, {"target", target}, {"ro", ro}});
    } else if (type == "tmpfs") {
      std::string data;
      for (const auto& o : options)
        if (o.rfind("size=", 0) == 0 || o.rfind("mode=", 0) == 0) data += (data.empty() ? "" : ",") + o;
      out.push_back({{"kind", "tmpfs"}, {"target", target}, {"ro", ro}, {"data", data}});
    }
  }
  return out;
}

}  // namespace

Status VmRuntime::start(const std::string& id, const ContainerPaths& paths,
                        const net::ContainerNetwork* network) {
  fs::path d = dir(id);
  ZL_TRY_ASSIGN(auto vm, load_vm_file(d));
  ZL_TRY_ASSIGN(auto assets, load_vm_assets());
  Accelerator accel = select_accelerator(assets);
  // A fresh run: what the last one left goes (its log stays, like a container's).
  for (const char* f : {"state/exit", "lost", "failed", "booted", "console.log", "qemu.pid", "qemu.err",
                        "qmp.sock", "paused"})
    (void)remove_tree(d / f);
  for (int i = 0; i < kAgentPorts; ++i) (void)remove_tree(d / agent_socket_name(i));
  ZL_TRY(copy_if_present(paths.config(), d / "state" / "config.json"));
  for (const char* f : {"hosts", "hostname", "resolv.conf"})
    ZL_TRY(copy_if_present(paths.dir / f, d / "state" / f));
  QemuConfig cfg{.dir = d,
                 .rootfs = paths.bundle() / "rootfs",
                 .state = d / "state",
                 .debug = d / "debug",
                 .port = vm.runtime_id,
                 .cpus = vm.cpus,
                 .memory_mib = vm.memory_mib,
                 .accel = accel.name};
  ZL_TRY_ASSIGN(auto mounts, user_mounts(paths.config(), cfg.shares));
  ZL_TRY(write_file_atomic(d / "state" / "mounts.json", mounts.dump(), 0644, Sync::atomic));
  fs::path netns;
  (void)remove_tree(d / "state" / "net.json");
  if (network && network->mode == net::NetworkMode::bridge && !network->netns.empty() &&
      !network->endpoints.empty() && !network->endpoints.front().address.empty()) {
    const auto& ep = network->endpoints.front();
    auto mac = join_tap(network->netns);
    if (!mac) {
      fail(id, mac.error().message);
      return tl::unexpected(mac.error().wrap("connect the VM of container " + id.substr(0, 12)));
    }
    json n{{"address", ep.address}, {"prefix_len", ep.prefix_len}, {"gateway", ep.gateway}, {"mac", *mac}};
    ZL_TRY(write_file_atomic(d / "state" / "net.json", n.dump(), 0644, Sync::atomic));
    netns = network->netns;
    cfg.tap = "tap0";
    cfg.mac = *mac;
  }
  auto launched = launch_qemu(assets, cfg, netns);
  if (!launched) {
    fail(id, launched.error().message);
    if (keep_vm_on_failure())
      spdlog::warn("VM of container {} kept for inspection in {}", id.substr(0, 12), d.string());
    return tl::unexpected(launched.error().wrap("boot the VM of container " + id.substr(0, 12)));
  }
  ZL_TRY(write_file_atomic(d / "booted", std::to_string(*launched), 0600, Sync::atomic));
  spdlog::debug("container={} vm={} pid={} accel={}", id.substr(0, 12), vm.runtime_id, *launched, accel.name);
  return {};
}

Result<std::optional<ExitInfo>> VmRuntime::exit_info(const std::string& id) {
  fs::path d = dir(id);
  fs::path exit_file = d / "state" / "exit";
  if (auto text = read_file(exit_file)) {
    ZL_TRY_ASSIGN(auto e, parse_exit_file(*text, false, mtime_ns(exit_file)));
    return std::optional<ExitInfo>(e);
  }
  if (auto lost = read_file(d / "lost")) {
    return std::optional<ExitInfo>(ExitInfo{.exit_code = -1,
                                            .reason = ExitInfo::Reason::runtime_error,
                                            .finished_at_unix_nano = mtime_ns(d / "lost"),
                                            .message = *lost});
  }
  if (!present(d / "booted") || running_qemu(d) > 0) return std::nullopt;
  if (present(exit_file)) return exit_info(id);  // written just before the VM went
  // Gone without an exit status: the console says why (a kernel panic, an agent that died).
  std::string console = read_file(console_log(d)).value_or("");
  std::string why = "qemu exited";
  if (auto at = console.find("Kernel panic"); at != std::string::npos) {
    why = console.substr(at, console.find('\n', at) - at);
  } else if (auto agent = console.rfind("zlayer-agent:"); agent != std::string::npos) {
    why = console.substr(agent, console.find('\n', agent) - agent);
  }
  while (!why.empty() && (why.back() == '\r' || why.back() == ' ')) why.pop_back();
  fs::path record = d / "crash" / fmt::format("console-{}.log", now_ns());
  (void)write_file_atomic(record, console, 0600);
  std::string message = fmt::format("the VM stopped without an exit status ({}); its console log is in {}",
                                    why, record.string());
  ZL_TRY(write_file_atomic(d / "lost", message, 0600));
  (void)write_file_atomic(d / "failed", message + "\n", 0600, Sync::atomic);
  spdlog::warn("container {}: {}", id.substr(0, 12), message);
  return exit_info(id);
}

Status VmRuntime::kill(const std::string& id, int sig) {
  fs::path d = dir(id);
  if (running_qemu(d) <= 0) return conflict("the VM of container {} is not running", id.substr(0, 12));
  auto client = AgentClient::connect(d, sig == SIGKILL ? std::chrono::milliseconds(3s) : kAgentTimeout);
  if (client) {
    auto r = client->call(json{{"op", "signal"}, {"signal", sig}});
    if (r || sig != SIGKILL) return r ? Status{} : Status(tl::unexpected(r.error()));
  }
  if (sig != SIGKILL) return tl::unexpected(client.error());
  // No agent to pass it on: the whole VM goes, as the process would have.
  (void)write_file_atomic(d / "state" / "exit", std::to_string(128 + SIGKILL), 0644);
  return kill_qemu(d);
}

Result<std::optional<ExitInfo>> VmRuntime::wait(const std::string& id,
                                                std::optional<std::chrono::milliseconds> timeout) {
  auto deadline =
      timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  for (;;) {
    ZL_TRY_ASSIGN(auto exit, exit_info(id));
    if (exit) return exit;
    if (!present(dir(id) / "booted")) return std::nullopt;  // never started: nothing to wait for
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(20ms);
  }
}

Status VmRuntime::pause(const std::string& id) {
  ZL_TRY(qmp_command(dir(id), "stop"));
  return write_file_atomic(dir(id) / "paused", "", 0600, Sync::atomic);
}

Status VmRuntime::resume(const std::string& id) {
  ZL_TRY(qmp_command(dir(id), "cont"));
  return remove_tree(dir(id) / "paused");
}

bool VmRuntime::paused(const std::string& id) const {
  return present(dir(id) / "paused") && pid(id) > 0;
}

Status VmRuntime::remove(const std::string& id) {
  fs::path d = dir(id);
  ZL_TRY(kill_qemu(d));
  if (!present(d)) return {};
  if (keep_vm_on_failure() && present(d / "failed")) {
    spdlog::warn("VM of container {} failed; kept for inspection in {}", id.substr(0, 12), d.string());
    return {};
  }
  return remove_tree(d);
}

Status VmRuntime::exec_stream(const std::string& id, const ExecOptions& opts,
                              const std::function<Status(const ExecEvent&)>& on_event) {
  ZL_TRY_ASSIGN(auto client, AgentClient::connect(dir(id), kAgentTimeout));
  json req{{"op", "exec"},
           {"args", opts.args},
           {"env", opts.env},
           {"cwd", opts.workdir},
           {"stdin", opts.stdin_fd >= 0}};
  auto [uid, gid] = parse_user(opts.user);
  if (uid) req["uid"] = *uid;
  if (gid) req["gid"] = *gid;
  std::optional<std::chrono::milliseconds> timeout;
  if (opts.timeout) timeout = *opts.timeout;
  auto done = client.call_streaming(
      req,
      [&](char type, std::string_view data) -> Status {
        return on_event(
            ExecEvent{.kind = type == 'E' ? ExecEvent::Kind::stderr_data : ExecEvent::Kind::stdout_data,
                      .data = std::string(data)});
      },
      opts.stdin_fd, timeout);
  if (!done) return tl::unexpected(done.error().wrap("exec in the VM of container " + id.substr(0, 12)));
  return on_event(ExecEvent{.kind = ExecEvent::Kind::exit, .exit_code = done->value("exit_code", -1)});
}

Result<ExecResult> VmRuntime::exec(const std::string& id, const ExecOptions& opts) {
  ExecResult r;
  ZL_TRY(exec_stream(id, opts, [&](const ExecEvent& e) -> Status {
    if (e.kind == ExecEvent::Kind::stdout_data) r.out += e.data;
    if (e.kind == ExecEvent::Kind::stderr_data) r.err += e.data;
    if (e.kind == ExecEvent::Kind::exit) r.exit_code = e.exit_code;
    return {};
  }));
  return r;
}

Result<CgroupStats> VmRuntime::stats(const std::string& id) {
  ZL_TRY_ASSIGN(auto vm, load_vm_file(dir(id)));
  ZL_TRY_ASSIGN(auto client, AgentClient::connect(dir(id), kAgentTimeout));
  ZL_TRY_ASSIGN(auto j, client.call(json{{"op", "stats"}}));
  CgroupStats s;
  uint64_t total = j.value("mem_total", uint64_t{0}), available = j.value("mem_available", uint64_t{0});
  s.memory_usage_bytes = total > available ? total - available : 0;
  s.memory_limit_bytes = static_cast<uint64_t>(vm.memory_mib * kMiB);  // the VM's size
  s.cpu_usage_usec = j.value("cpu_usage_usec", uint64_t{0});
  s.pids_current = j.value("pids", uint64_t{0});
  return s;
}

Status VmRuntime::attach(const std::string& id, const AttachIo& io, const std::function<Status()>& start,
                         const std::function<bool()>& exited) {
  // The agent writes the container's output to its log (k8s-file lines): what this run adds is
  // copied out as it comes.
  fs::path path = log(id);
  std::error_code ec;
  auto offset = static_cast<std::streamoff>(fs::exists(path, ec) ? fs::file_size(path, ec) : 0);
  if (start) ZL_TRY(start());
  std::string pending;
  bool done = false;
  for (;;) {
    if (std::ifstream in(path, std::ios::binary); in) {
      in.seekg(offset);
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      offset += static_cast<std::streamoff>(chunk.size());
      pending += chunk;
    }
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      if (auto line = parse_k8s_log_line(std::string_view(pending).substr(0, nl))) {
        int fd = line->stream == LogEntry::Stream::stderr_stream && !io.tty ? io.err_fd : io.out_fd;
        std::string text(line->text);
        if (!line->partial) text += '\n';
        if (fd >= 0) (void)write_all(fd, text, "the container's output");
      }
      pending.erase(0, nl + 1);
    }
    if (done) return {};
    done = exited();  // then one more read drains the rest
    if (!done) std::this_thread::sleep_for(20ms);
  }
}

}  // namespace zl::vm
