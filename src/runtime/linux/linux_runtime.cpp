#include "runtime/linux/linux_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "common/failpoint.h"
#include "common/log.h"
#include "net/dns_launcher.h"
#include "oci/bundle_builder.h"
#include "oci/signals.h"
#include "rootfs/overlay.h"
#include "runtime/linux/container_files.h"
#include "runtime/vm/vm_runtime.h"

namespace zl {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Milliseconds since `t0`, for the timings in the debug log.
int64_t ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

bool process_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// cgroup v1 freezer or v2 cgroup.freeze says the container is frozen.
bool cgroup_frozen(const std::string& cgroups_path) {
  std::ifstream v1("/sys/fs/cgroup/freezer" + cgroups_path + "/freezer.state");
  std::string state;
  if (v1 >> state) return state == "FROZEN" || state == "FREEZING";
  std::ifstream v2("/sys/fs/cgroup" + cgroups_path + "/cgroup.freeze");
  int frozen = 0;
  return (v2 >> frozen) && frozen == 1;
}

std::string image_basename(const std::string& reference) {
  std::string s = reference.substr(0, reference.find('@'));
  if (auto slash = s.rfind('/'); slash != std::string::npos) s = s.substr(slash + 1);
  if (auto colon = s.find(':'); colon != std::string::npos) s = s.substr(0, colon);
  return s.empty() ? "ctr" : s;
}

// How the files of a container's bundle are written. Those of a container that is removed when
// it exits are scratch like its rootfs: no crash outlives it, so they are not synced. Its record
// (container.json, state.json) always is, so that it can still be listed and removed.
Sync bundle_sync(const ContainerSpec& spec) { return spec.auto_remove ? Sync::atomic : Sync::durable; }

// /etc/hostname, /etc/hosts and /etc/resolv.conf for the container, bind-mounted by the bundle.
// With an address of its own, /etc/hosts maps it to the host name and the container's name.
// With a network DNS server (`nameserver`), resolv.conf points at it, so service and container
// names resolve (it forwards the rest to the host's resolvers); otherwise it is the host's.
std::string hosts_file(const std::string& hostname, const std::string& name, const std::string& address) {
  std::string own = address.empty() ? fmt::format("127.0.1.1\t{}\n", hostname)
                    : hostname == name ? fmt::format("{}\t{}\n", address, hostname)
                                       : fmt::format("{}\t{} {}\n", address, hostname, name);
  return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + own;
}

Status write_etc_files(const ContainerPaths& paths, const std::string& hostname, const std::string& name,
                       const std::string& address, const std::string& nameserver, Sync sync) {
  ZL_TRY(write_file_atomic(paths.dir / "hostname", hostname + "\n", 0644, sync));
  ZL_TRY(write_file_atomic(paths.dir / "hosts", hosts_file(hostname, name, address), 0644, sync));
  if (!nameserver.empty())
    return write_file_atomic(paths.dir / "resolv.conf",
                             fmt::format("nameserver {}\nsearch service.local\noptions ndots:1\n", nameserver), 0644,
                             sync);
  auto resolv = read_file("/etc/resolv.conf");
  return write_file_atomic(paths.dir / "resolv.conf", resolv ? *resolv : std::string(), 0644, sync);
}

// The names all replicas of a service share.
std::vector<std::string> service_names(const std::string& service) {
  return {service, service + ".service.local"};
}

// Rewrites a file that a created container has bind-mounted already: in place, since the
// mount holds the inode (a rename would leave the container the old file). Used before the
// container starts, so nothing in it reads the file half-written.
Status rewrite_mounted_file(const fs::path& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno_error(errno, "rewrite " + path.string());
  while (!data.empty()) {
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_error(errno, "rewrite " + path.string());
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// The address of the DNS server of a container's primary network (started when needed), or ""
// when it has none (host, none, container: modes) or it cannot be started (then the host's
// resolvers serve).
std::string network_dns(net::NetworkManager& nm, const net::ContainerNetwork& cn) {
  if (cn.mode != net::NetworkMode::bridge || cn.endpoints.empty()) return "";
  auto n = nm.inspect_network(cn.endpoints.front().network);
  if (!n) return "";
  auto lock = nm.store().lock(n->name);
  if (!lock) return "";
  auto dns = net::ensure_dns_server(nm.store(), *n);
  if (!dns) {
    // (Seen when another zlayer root on this host serves the same default network; a real node
    // has one root. Not worth a warning on every run.)
    spdlog::info("{}; containers on {} use the host's resolvers", dns.error().message, n->name);
    return "";
  }
  return *dns;
}

// Bytes received and sent by every interface but lo, from a /proc/<pid>/net/dev.
std::pair<uint64_t, uint64_t> net_dev_bytes(const std::string& text) {
  uint64_t rx = 0, tx = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string ifname = line.substr(0, colon);
    ifname.erase(0, ifname.find_first_not_of(' '));
    if (ifname == "lo") continue;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t v[9] = {};
    for (auto& x : v) fields >> x;
    rx += v[0];  // receive bytes, then 7 more receive fields, then transmit bytes
    tx += v[8];
  }
  return {rx, tx};
}

CreateOptions create_options(const ContainerSpec& spec) {
  return CreateOptions{.name = spec.name, .tty = spec.tty, .open_stdin = spec.open_stdin, .log_size_max = 10 << 20};
}

}  // namespace

LinuxRuntime::LinuxRuntime(fs::path root, ImageStore& images, LinuxRuntimeOptions opts)
    : root_(std::move(root)),
      images_(images),
      opts_(std::move(opts)),
      containers_(root_ / "containers"),
      volumes_(root_ / "volumes"),
      events_(root_ / "events.jsonl") {}

namespace {
using vm::is_vm;
// The VMs of isolation: vm containers (stateless: everything is in <root>/vms).
vm::VmRuntime vms(const fs::path& root) { return vm::VmRuntime(root / "vms"); }
}  // namespace

void LinuxRuntime::record_event(const std::string& action, const ContainerInfo& c,
                                std::map<std::string, std::string> extra) const {
  extra["name"] = c.name;
  extra["image"] = c.image;
  events_.record(Event{.type = "container", .action = action, .id = c.id, .attributes = std::move(extra)});
}

void LinuxRuntime::mark_exited(ContainerInfo& c, const ExitInfo& exit) const {
  c.status = ContainerStatus::exited;
  c.exit = exit;
  c.finished_at = exit.finished_at_unix_nano;
  c.pid = 0;
  if (c.started_at == 0) return;  // not started, or its start not recorded yet
  fs::path marker = containers_.paths(c.id).exit_dir() / ".die-recorded";
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return;  // recorded already (or no exit dir: nothing ran)
  record_event("die", c, {{"exitCode", std::to_string(c.exit->exit_code)}});
}

Result<OciRuntime> LinuxRuntime::oci_runtime() {
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  return d->oci();
}

net::NetworkManager& LinuxRuntime::net_manager() {
  std::lock_guard lock(net_mu_);
  if (!net_) net_ = std::make_unique<net::NetworkManager>(root_, opts_.net);
  return *net_;
}

Result<net::NetworkManager*> LinuxRuntime::network() {
  net::NetworkManager& nm = net_manager();
  std::lock_guard lock(net_reap_mu_);  // the first use reaps; the others wait for it
  if (!net_reaped_) {
    net_reaped_ = true;
    auto reaped = nm.reap([this](const std::string& id) { return container_present(id); });
    if (!reaped) spdlog::warn("reaping network leftovers: {}", reaped.error().message);
  }
  return &nm;
}

void LinuxRuntime::reap_interrupted_creates() {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ / "containers", ec)) {
    std::string id = e.path().filename().string();
    if (id.size() != 64 || fs::exists(e.path() / "container.json", ec) || !containers_.interrupted_create(id, 3))
      continue;
    spdlog::info("removing container {}: its create was interrupted", id.substr(0, 12));
    if (auto st = net_manager().detach(id); !st) spdlog::warn("container {}: {}", id.substr(0, 12), st.error().message);
    if (auto st = unmount_overlay(e.path() / "bundle" / "rootfs"); !st) {
      spdlog::warn("container {}: {}", id.substr(0, 12), st.error().message);
      continue;
    }
    (void)vms(root_).remove(id);  // a VM's directory, if it got that far
    (void)remove_tree(e.path());
  }
  containers_.sweep();  // and what a crash in a removal left
}

bool LinuxRuntime::container_present(const std::string& id) const {
  fs::path dir = root_ / "containers" / id;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return false;
  if (fs::exists(dir / "container.json", ec)) return true;
  // Not recorded yet: being created (the creator holds its lock), or left by a crash.
  UniqueFd fd(::open((dir / "lock").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  return ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

Result<net::AttachRequest> LinuxRuntime::network_request(const ContainerSpec& spec, const std::string& id) {
  net::AttachRequest req{.container_id = id, .container_name = spec.name, .ports = spec.ports};
  const std::string& mode = spec.network_mode;
  if (mode.empty() || mode == "bridge" || mode == net::kDefaultNetwork) {
    req.networks.push_back("");
  } else if (mode == "none") {
    req.mode = net::NetworkMode::none;
  } else if (mode == "host") {
    req.mode = net::NetworkMode::host;
  } else if (mode.starts_with("container:")) {
    req.mode = net::NetworkMode::container;
    std::string ref = mode.substr(10);
    ZL_TRY_ASSIGN(std::string target, containers_.resolve(ref));
    ZL_TRY_ASSIGN(auto other, info(target));
    if (other.status != ContainerStatus::running && other.status != ContainerStatus::paused)
      return conflict("cannot join the network of container {}: it is not running ({})", other.name,
                      to_string(other.status));
    req.joined = target;
    if (other.network && other.network->mode == net::NetworkMode::host) {
      req.mode = net::NetworkMode::host;
    } else if (other.network && !other.network->netns.empty()) {
      req.join_netns = other.network->netns;
      if (other.network->mode == net::NetworkMode::container) req.joined = other.network->joined;
    } else {
      req.join_netns = fmt::format("/proc/{}/ns/net", other.pid);
    }
  } else {
    req.networks.push_back(mode);
  }
  if (req.mode != net::NetworkMode::bridge && !spec.networks.empty())
    return invalid_argument("network mode {} cannot be combined with more networks", mode);
  for (const auto& n : spec.networks) req.networks.push_back(n);
  if (req.mode == net::NetworkMode::bridge) {
    req.dns_names.push_back(spec.name);
    for (const auto& a : spec.network_aliases) req.dns_names.push_back(a);
    auto service = spec.labels.find(kServiceLabel);
    auto replica = spec.labels.find(kReplicaLabel);
    auto gated = spec.labels.find(kHealthGatedLabel);
    if (service != spec.labels.end() && !service->second.empty()) {
      if (gated == spec.labels.end() || gated->second != "true")
        for (auto& n : service_names(service->second)) req.dns_names.push_back(std::move(n));
      if (replica != spec.labels.end() && !replica->second.empty())
        req.dns_names.push_back(replica->second + "." + service->second + ".service.local");
    }
  } else if (!spec.network_aliases.empty()) {
    return invalid_argument("network aliases need a network: not with network mode {}", mode);
  }
  return req;
}

Result<ConmonRuntime*> LinuxRuntime::driver() {
  std::lock_guard lock(driver_mu_);
  if (!driver_) {
    fs::path state_dir = root_ / "run" / "oci";
    ZL_TRY(make_dirs(state_dir, 0700));
    ZL_TRY_ASSIGN(auto oci, select_oci_runtime(opts_.oci_runtime, state_dir));
    driver_ = std::make_unique<ConmonRuntime>(std::move(oci), state_dir);
  }
  return driver_.get();
}

bool LinuxRuntime::image_in_use(const Digest& config_digest) const {
  auto ids = containers_.ids();
  if (!ids) return true;  // cannot tell: be safe
  for (const auto& id : *ids) {
    auto rec = containers_.load(id);
    if (rec && rec->image_id == config_digest.str()) return true;
  }
  return false;
}

Result<std::map<std::string, std::vector<std::string>>> LinuxRuntime::volume_users() const {
  ZL_TRY_ASSIGN(auto ids, containers_.ids());
  std::map<std::string, std::vector<std::string>> users;
  for (const auto& id : ids) {
    auto rec = containers_.load(id);
    if (!rec) {  // removed meanwhile, or damaged: skipped, as image_in_use() does
      if (rec.error().kind != ErrorKind::not_found) spdlog::warn("{}", rec.error().message);
      continue;
    }
    for (const auto& m : rec->spec.mounts) {
      if (m.type != Mount::Type::volume || m.source.empty()) continue;
      auto& names = users[m.source];
      if (names.empty() || names.back() != rec->name) names.push_back(rec->name);
    }
  }
  return users;
}

Status LinuxRuntime::remove_anonymous_volumes(const ContainerSpec& spec) {
  for (const auto& m : spec.mounts) {
    if (m.type != Mount::Type::volume || m.source.empty()) continue;
    auto v = volumes_.inspect(m.source);
    if (!v || !v->anonymous()) continue;
    auto removed = volumes_.remove(m.source, /*force=*/true, [this] { return volume_users(); });
    if (!removed && removed.error().kind == ErrorKind::conflict) continue;  // still used elsewhere: kept
    ZL_TRY(removed);
  }
  return {};
}

Result<std::vector<Mount>> LinuxRuntime::resolve_volumes(ContainerSpec& spec, const fs::path& rootfs,
                                                         std::vector<std::string>& created_anonymous) {
  std::vector<Mount> resolved = spec.mounts;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    Mount& m = spec.mounts[i];
    if (m.type != Mount::Type::volume) continue;
    VolumeCreateOptions opts;
    bool anonymous = m.source.empty();
    if (anonymous) {
      m.source = new_volume_name();
      opts.labels[kAnonymousVolumeLabel] = "";
    }
    bool created = false;
    ZL_TRY_ASSIGN(auto v, volumes_.create_locked(m.source, opts, &created).map_error([&](Error e) {
      return std::move(e).wrap("volume for " + m.target);
    }));
    if (created && anonymous) created_anonymous.push_back(m.source);
    // "nocopy" (docker's): the volume starts empty; an option for us, not for the kernel.
    Mount& r = resolved[i];
    bool nocopy = std::erase(r.options, "nocopy") > 0;
    if (!nocopy) ZL_TRY(volumes_.copy_up_locked(m.source, rootfs, m.target));
    r.source = v.mountpoint.string();
  }
  return resolved;
}

Result<std::optional<ExitInfo>> LinuxRuntime::settle_exit(const std::string& id, ContainerInfo& c) {
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY_ASSIGN(auto exit, d->exit_info(id, containers_.paths(id)));
  if (exit && exit->reason == ExitInfo::Reason::runtime_error) {
    // Its monitor is gone, the process may live on: nothing would collect its output or its
    // exit. It is stopped, so that it is what it is reported to be.
    if (int pid = read_pid_file(containers_.paths(id).pidfile()).value_or(0); process_alive(pid)) {
      spdlog::warn("container {}: {}; killing its process {}", c.name, exit->message, pid);
      if (auto st = d->kill(id, SIGKILL); !st) spdlog::warn("container {}: {}", c.name, st.error().message);
    }
  }
  if (exit) mark_exited(c, *exit);
  return exit;
}

Result<ContainerRunState> LinuxRuntime::load_or_repair_state(const ContainerRecord& rec) {
  auto st = containers_.load_state(rec.id);
  if (st || st.error().kind != ErrorKind::corrupt) return st;
  // Bookkeeping only: what it said is rebuilt from the runtime (started or not) and conmon's
  // exit file (read again below), and written back whole.
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ContainerRunState fresh;
  auto now = d->status(rec.id);
  if (!now || now->status != "created") fresh.started_at = rec.created_at;  // when exactly is lost
  spdlog::warn("{}; rebuilt from the runtime's state", st.error().message);
  ZL_TRY(containers_.save_state(rec.id, fresh));
  return fresh;
}

Result<ContainerInfo> LinuxRuntime::info(const std::string& id) {
  ZL_TRY_ASSIGN(auto rec, containers_.load(id));
  ZL_TRY_ASSIGN(auto st, load_or_repair_state(rec));
  ContainerPaths paths = containers_.paths(id);
  ContainerInfo c{.id = rec.id,
                  .name = rec.name,
                  .image = rec.image,
                  .image_id = rec.image_id,
                  .spec = rec.spec,
                  .command = rec.command,
                  .created_at = rec.created_at,
                  .started_at = st.started_at,
                  .finished_at = st.finished_at,
                  .exit = st.exit,
                  .cgroups_path = rec.cgroups_path,
                  .dir = paths.dir,
                  .rootfs = paths.bundle() / "rootfs",
                  .oci_runtime = rec.oci_runtime,
                  .health = containers_.load_health(id)};
  if (auto network = net_manager().load(id); network) {
    c.network = std::move(*network);
  } else {
    spdlog::warn("container {}: {}", rec.name, network.error().message);
  }
  if (st.exit) {
    c.status = ContainerStatus::exited;
    return c;
  }
  if (is_vm(rec.spec)) {  // its VM says: the agent's exit file, or qemu running
    ZL_TRY_ASSIGN(auto vm_exit, vms(root_).exit_info(id));
    if (vm_exit) {
      mark_exited(c, *vm_exit);
      return c;
    }
    c.pid = vms(root_).pid(id);
    c.status = st.started_at == 0      ? ContainerStatus::created
               : vms(root_).paused(id) ? ContainerStatus::paused
                                       : ContainerStatus::running;
    return c;
  }
  ZL_TRY_ASSIGN(auto exit, settle_exit(id, c));
  if (exit) return c;
  int pid = read_pid_file(paths.pidfile()).value_or(0);
  if (process_alive(pid)) {
    c.pid = pid;
    c.status = st.started_at == 0                ? ContainerStatus::created
               : cgroup_frozen(rec.cgroups_path) ? ContainerStatus::paused
                                                 : ContainerStatus::running;
    return c;
  }
  // The process is gone: conmon writes the exit file in a moment, unless conmon died too.
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  bool monitor = d->monitor_alive(paths);
  if (monitor && pid <= 0 && st.started_at == 0) {
    c.status = ContainerStatus::created;  // still being created: the runtime has not written its pid yet
    return c;
  }
  if (monitor) {
    ZL_TRY_ASSIGN(auto late, d->wait(id, paths, 2000ms));
    if (late) {
      mark_exited(c, *late);
      return c;
    }
  }
  c.status = ContainerStatus::exited;
  c.exit = ExitInfo{.exit_code = -1,
                    .reason = ExitInfo::Reason::runtime_error,
                    .message = "the container's monitor (conmon) is gone and left no exit status"};
  return c;
}

Result<ContainerInfo> LinuxRuntime::create_container(const ContainerSpec& spec_in) {
  auto t0 = std::chrono::steady_clock::now();
  ZL_TRY(containers_.init());
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  reap_interrupted_creates();
  ContainerSpec spec = spec_in;
  ZL_TRY_ASSIGN(auto lease, images_.lease());  // prune must not take the layers from under us
  ZL_TRY_ASSIGN(auto image, images_.inspect(spec.image));
  std::string id = new_container_id();
  if (spec.name.empty()) spec.name = image_basename(image.record.reference) + "-" + id.substr(0, 6);
  ZL_TRY(validate_container_name(spec.name));
  ContainerPaths paths = containers_.paths(id);
  ZL_TRY(make_dirs(paths.dir, 0700));

  // Undo everything done so far unless we get to the end.
  bool done = false, named = false, created = false;
  net::NetworkManager* nm = nullptr;  // set once the container is connected
  std::vector<std::string> new_volumes;  // anonymous, made for this container
  auto undo = [&] {
    if (done) return;
    if (created) (void)(is_vm(spec) ? vms(root_).remove(id) : d->remove(id, paths, true));
    if (nm) {
      if (auto st = nm->detach(id); !st) spdlog::warn("undo create of {}: {}", spec.name, st.error().message);
    }
    (void)unmount_overlay(paths.bundle() / "rootfs");
    (void)remove_tree(paths.dir);
    if (named) containers_.release_name(spec.name, id);
    for (const auto& v : new_volumes) (void)volumes_.remove(v, true, [this] { return volume_users(); });
  };
  struct Guard {
    std::function<void()> f;
    ~Guard() { f(); }
  } guard{undo};

  // Locked before the name is reserved: a name whose container has no record and no lock holder
  // belongs to a create that crashed (ContainerStore::interrupted_create), and is taken over.
  ZL_TRY_ASSIGN(auto lock, FileLock::acquire(paths.dir / "lock"));
  ZL_FAILPOINT("create.after-lock");
  ZL_TRY(containers_.reserve_name(spec.name, id));
  named = true;
  ZL_FAILPOINT("create.after-name");

  std::vector<fs::path> lowers = image.layer_dirs;
  if (lowers.empty()) {  // an image without layers still needs one lower dir
    ZL_TRY(make_dirs(paths.dir / "empty", 0755));
    lowers.push_back(paths.dir / "empty");
  }
  fs::path rootfs = paths.bundle() / "rootfs";
  OverlayLayout layout{.lower_dirs = lowers,
                       .upper_dir = paths.dir / "upper",
                       .work_dir = paths.dir / "work",
                       .volatile_upper = spec.auto_remove};
  ZL_TRY(mount_overlay(layout, rootfs));
  ZL_FAILPOINT("create.after-overlay");

  // Volumes are resolved with their store locked until the record that uses them is saved, so
  // none can be removed in between (the lock goes before `guard` runs: declared after it).
  std::optional<FileLock> volumes_lock;
  std::optional<std::vector<Mount>> mounts;
  if (std::any_of(spec.mounts.begin(), spec.mounts.end(),
                  [](const Mount& m) { return m.type == Mount::Type::volume; })) {
    ZL_TRY_ASSIGN(volumes_lock, volumes_.lock());
    ZL_TRY_ASSIGN(mounts, resolve_volumes(spec, rootfs, new_volumes));
    ZL_FAILPOINT("create.after-volumes");
  }

  // The network: its own namespace (or a shared one), an address on each network, ports.
  // When the bridges exist already, the plugins run while conmon and the OCI runtime create
  // the container in the namespace (it starts only when both are done), and /etc/hosts gets
  // the address then; a network's first container connects first (its bridge comes up, the
  // DNS server binds on the bridge's address).
  ZL_TRY_ASSIGN(auto request, network_request(spec, id));
  ZL_TRY_ASSIGN(net::NetworkManager * network_manager, network());
  ZL_TRY_ASSIGN(auto pending, network_manager->begin_attach(request));
  nm = network_manager;
  ZL_FAILPOINT("create.after-netns");
  std::optional<net::ContainerNetwork> connected;
  if (!pending.bridges_ready || pending.nets.empty()) {
    ZL_TRY_ASSIGN(connected, network_manager->finish_attach(pending));
  }
  const net::ContainerNetwork& cn = connected ? *connected : pending.cn;  // no addresses yet
  NetworkNamespace netns{.mode = NetworkNamespace::Mode::join, .path = cn.netns};
  if (cn.mode == net::NetworkMode::host) netns = NetworkNamespace{.mode = NetworkNamespace::Mode::host};

  std::string hostname = spec.hostname.empty() ? id.substr(0, 12) : spec.hostname;
  if (cn.mode == net::NetworkMode::host && spec.hostname.empty()) hostname = HostInfo::probe().hostname;
  auto address_of = [](const net::ContainerNetwork& c) { return c.endpoints.empty() ? "" : c.endpoints.front().address; };
  ZL_TRY(write_etc_files(paths, hostname, spec.name, address_of(cn), network_dns(*network_manager, cn),
                         bundle_sync(spec)));
  // ipc_mode / pid_mode "container:<x>": that running container's namespaces.
  std::map<std::string, std::string> joins;
  for (auto [mode, type] : {std::pair{&spec.ipc_mode, "ipc"}, std::pair{&spec.pid_mode, "pid"}}) {
    if (mode->empty()) continue;
    if (!mode->starts_with("container:"))
      return invalid_argument("{} mode \"{}\": only container:<id|name> is supported", type, *mode);
    ZL_TRY_ASSIGN(std::string target, containers_.resolve(mode->substr(10)));
    ZL_TRY_ASSIGN(auto other, info(target));
    if ((other.status != ContainerStatus::running && other.status != ContainerStatus::paused) || other.pid <= 0)
      return conflict("cannot join the {} namespace of container {}: it is not running", type, other.name);
    joins[type] = fmt::format("/proc/{}/ns/{}", other.pid, type);
  }
  std::future<Result<net::ContainerNetwork>> connecting;  // declared after `guard`: joined before undo
  if (!connected)
    connecting = std::async(std::launch::async, [&] { return network_manager->finish_attach(pending); });
  BundleInputs in{.spec = spec,
                  .image_config = image.config,
                  .rootfs = rootfs,
                  .container_id = id,
                  .hostname = hostname,
                  .hosts_file = paths.dir / "hosts",
                  .hostname_file = paths.dir / "hostname",
                  .resolv_conf = paths.dir / "resolv.conf",
                  .mounts = mounts,
                  .network = netns,
                  .join_namespaces = joins,
                  .cgroups_path = "/zlayer/" + id};
  ZL_TRY_ASSIGN(auto config, build_runtime_config(in));
  ZL_TRY(write_file_atomic(paths.bundle() / "config.json", config.dump(2), 0600, bundle_sync(spec)));
  ZL_FAILPOINT("create.after-config");

  ContainerRecord rec{.id = id,
                      .name = spec.name,
                      .image = image.record.reference,
                      .image_id = image.record.config_digest.str(),
                      .spec = spec,
                      .command = config["process"]["args"].get<std::vector<std::string>>(),
                      .created_at = now_ns(),
                      .cgroups_path = in.cgroups_path,
                      .oci_runtime = is_vm(spec) ? "vm" : d->oci().name,
                      .lower_dirs = lowers};
  ZL_TRY(containers_.save(rec));
  ZL_FAILPOINT("create.after-record");
  volumes_lock.reset();
  auto runtime_created = is_vm(spec) ? vms(root_).create(id, paths, spec) : d->create(id, paths, create_options(spec));
  created = runtime_created.has_value();
  if (created) ZL_FAILPOINT("create.after-runtime-create");
  if (connecting.valid()) {
    ZL_TRY_ASSIGN(connected, connecting.get());
    ZL_TRY(rewrite_mounted_file(paths.dir / "hosts", hosts_file(hostname, spec.name, address_of(*connected))));
  }
  ZL_TRY(runtime_created);
  ZL_FAILPOINT("create.after-connect");
  done = true;
  spdlog::debug("container={} created_ms={}", id.substr(0, 12), ms_since(t0));
  ZL_TRY_ASSIGN(auto made, info(id));
  record_event("create", made);
  return made;
}

Result<ContainerInfo> LinuxRuntime::running(const std::string& ref, std::string_view action) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status != ContainerStatus::running && c.status != ContainerStatus::paused)
    return conflict("cannot {} container {}: it is not running ({})", action, c.name, to_string(c.status));
  return c;
}

Status LinuxRuntime::recreate_locked(const ContainerInfo& c, ContainerRunState& st) {
  // Like docker: the same container runs again, on the same rootfs (its upper layer kept).
  if (is_vm(c.spec)) {  // its VM boots afresh at start
    st.exit.reset();
    st.started_at = st.finished_at = 0;
    ++st.restart_count;
    return {};
  }
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ContainerPaths paths = containers_.paths(c.id);
  ZL_TRY(d->remove(c.id, paths, true));
  ZL_FAILPOINT("restart.after-runtime-delete");
  ZL_TRY(remove_tree(paths.exit_dir()));
  ZL_TRY(remove_tree(paths.persist_dir()));
  ZL_TRY(d->create(c.id, paths, create_options(c.spec)));
  st.exit.reset();
  st.started_at = st.finished_at = 0;
  ++st.restart_count;
  return {};
}

Status LinuxRuntime::start_container(const std::string& ref) {
  auto t0 = std::chrono::steady_clock::now();
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status == ContainerStatus::running || c.status == ContainerStatus::paused) return {};
  ZL_TRY_ASSIGN(auto st, containers_.load_state(id));
  if (c.status == ContainerStatus::exited) ZL_TRY(recreate_locked(c, st));
ZL_FAILPOINT("start.before-runtime-start");
  if (is_vm(c.spec)) {
    ZL_TRY(vms(root_).start(id, containers_.paths(id), c.network ? &*c.network : nullptr));
  } else if (auto started = d->start(id, containers_.paths(id)); !started) {
    // A zlayer that died between `runtime start` and recording it leaves a started container
    // that reads as created: the runtime knows better.
    auto now = d->status(id);
    if (!now || now->status == "created") return tl::unexpected(started.error().wrap("start container " + c.name));
  }
  ZL_FAILPOINT("start.after-runtime-start");
  // "start" before the state says started: whoever sees the exit first records "die", and only
  // of a container whose start is recorded (mark_exited), so the two never come in the wrong order.
  record_event("start", c);
  st.started_at = now_ns();
  ZL_TRY(containers_.save_state(id, st));
  spdlog::debug("container={} started_ms={}", id.substr(0, 12), ms_since(t0));
  return {};
}

Status LinuxRuntime::stop_locked(const ContainerInfo& c, std::chrono::seconds timeout) {
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ContainerPaths paths = containers_.paths(c.id);
  std::string sig_name = c.spec.stop_signal;
  if (sig_name.empty()) sig_name = "SIGTERM";
  ZL_TRY_ASSIGN(int sig, parse_signal(sig_name));
  if (is_vm(c.spec)) {
    if (c.status == ContainerStatus::paused) ZL_TRY(vms(root_).resume(c.id));  // its agent must run to pass it on
    auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    if (auto sent = vms(root_).kill(c.id, sig); sent) {
      ZL_TRY_ASSIGN(auto exit, vms(root_).wait(c.id, grace));
      if (exit) return {};
      spdlog::info("container {} did not stop within {}s after {}: sending SIGKILL", c.name, timeout.count(), sig_name);
    }
    ZL_TRY(vms(root_).kill(c.id, SIGKILL));
    ZL_TRY_ASSIGN(auto killed, vms(root_).wait(c.id, 30000ms));
    if (!killed) return unavailable("container {} did not exit after SIGKILL", c.name);
    return {};
  }
  if (c.status == ContainerStatus::paused) {
    ZL_TRY(d->kill(c.id, sig));
    ZL_TRY(d->resume(c.id));
  } else {
    ZL_TRY(d->kill(c.id, sig));
  }
  ZL_TRY_ASSIGN(auto exit, d->wait(c.id, paths, std::chrono::duration_cast<std::chrono::milliseconds>(timeout)));
  if (exit) return {};
  spdlog::info("container {} did not stop within {}s after {}: sending SIGKILL", c.name, timeout.count(), sig_name);
  ZL_TRY(d->kill(c.id, SIGKILL));
  ZL_TRY_ASSIGN(auto killed, d->wait(c.id, paths, 30000ms));
  if (!killed) return unavailable("container {} did not exit after SIGKILL", c.name);
  return {};
}

Status LinuxRuntime::stop_container(const std::string& ref, std::optional<std::chrono::seconds> timeout) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status == ContainerStatus::exited) return {};
  if (c.status == ContainerStatus::created && is_vm(c.spec)) return {};  // no VM yet
  if (c.status == ContainerStatus::created) {  // never started: nothing runs yet
    ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
    ZL_TRY(d->kill(id, SIGKILL));
    (void)d->wait(id, containers_.paths(id), 10000ms);
    return {};
  }
  auto t = timeout.value_or(std::chrono::seconds(c.spec.stop_timeout.value_or(10)));
  ZL_TRY(stop_locked(c, t));
  (void)info(id);  // the exit recorded ("die") before the stop
  record_event("stop", c);
  return {};
}

Status LinuxRuntime::kill_container(const std::string& ref, const std::string& signal) {
  ZL_TRY_ASSIGN(int sig, parse_signal(signal.empty() ? "SIGKILL" : signal));
  ZL_TRY_ASSIGN(auto c, running(ref, "kill"));
  if (is_vm(c.spec)) {
    ZL_TRY(vms(root_).kill(c.id, sig));
    record_event("kill", c, {{"signal", std::to_string(sig)}});
    return {};
  }
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY(d->kill(c.id, sig));
  record_event("kill", c, {{"signal", std::to_string(sig)}});
  return {};
}

Status LinuxRuntime::pause_container(const std::string& ref) {
  ZL_TRY_ASSIGN(auto c, running(ref, "pause"));
  if (c.status == ContainerStatus::paused) return conflict("container {} is already paused", c.name);
  if (is_vm(c.spec)) {
    ZL_TRY(vms(root_).pause(c.id));
    record_event("pause", c);
    return {};
  }
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY(d->pause(c.id));
  record_event("pause", c);
  return {};
}

Status LinuxRuntime::resume_container(const std::string& ref) {
  ZL_TRY_ASSIGN(auto c, running(ref, "unpause"));
  if (c.status != ContainerStatus::paused) return conflict("container {} is not paused", c.name);
  if (is_vm(c.spec)) {
    ZL_TRY(vms(root_).resume(c.id));
    record_event("unpause", c);
    return {};
  }
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ZL_TRY(d->resume(c.id));
  record_event("unpause", c);
  return {};
}

Status LinuxRuntime::teardown(const std::string& id, const std::string& name) {
  auto t0 = std::chrono::steady_clock::now();
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  ContainerPaths paths = containers_.paths(id);
  ZL_TRY_ASSIGN(net::NetworkManager * nm, network());
  // The network goes (CNI DEL: a few process starts) while the runtime deletes the container;
  // the process has exited, nothing uses the namespace. A plugin that fails leaves the
  // namespace and record for the reaper: the removal goes on.
  auto disconnecting = std::async(std::launch::async, [nm, &id] { return nm->detach(id); });
  std::error_code ec;
  bool vm = fs::exists(vms(root_).dir(id), ec);  // (also when its record is unreadable)
  auto removed = vm ? vms(root_).remove(id) : d->remove(id, paths, true);
  if (auto st = disconnecting.get(); !st) spdlog::warn("container {}: {}", name, st.error().message);
  ZL_TRY(removed);
  ZL_FAILPOINT("teardown.after-runtime-delete");
  ZL_TRY(unmount_overlay(paths.bundle() / "rootfs"));
  ZL_FAILPOINT("teardown.after-unmount");
  ZL_TRY(containers_.discard(id));
  if (name.empty())
    containers_.sweep();  // its record was unreadable: its name is found by the id it points to
  else
    containers_.release_name(name, id);
  spdlog::debug("container={} removed_ms={}", id.substr(0, 12), ms_since(t0));
  return {};
}

Status LinuxRuntime::remove_container(const std::string& ref, bool force) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  auto known = info(id);
  if (!known && known.error().kind == ErrorKind::corrupt && force) {
    // Its record is torn: it goes by its id (the runtime's delete --force stops what runs).
    spdlog::warn("{}; removing the container by its id", known.error().message);
    auto removed = teardown(id, "");
    if (!removed) return tl::unexpected(std::move(removed).error().wrap("remove container " + id.substr(0, 12)));
    return {};
  }
  ZL_TRY_ASSIGN(auto c, std::move(known));
  if (c.status == ContainerStatus::running || c.status == ContainerStatus::paused) {
    if (!force)
      return conflict("cannot remove container {}: it is {}: stop it first or force the removal", c.name,
                      to_string(c.status));
    if (is_vm(c.spec)) {
      if (c.status == ContainerStatus::paused) (void)vms(root_).resume(id);
      ZL_TRY(vms(root_).kill(id, SIGKILL));
      (void)vms(root_).wait(id, 10000ms);
    } else {
      ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
      ZL_TRY(d->kill(id, SIGKILL));
      if (c.status == ContainerStatus::paused) (void)d->resume(id);
      (void)d->wait(id, containers_.paths(id), 10000ms);
    }
    (void)info(id);  // its "die" before its "destroy"
    ZL_FAILPOINT("remove.after-kill");
  }
  auto removed = teardown(id, c.name);
  if (!removed) return tl::unexpected(std::move(removed).error().wrap("remove container " + c.name));
  record_event("destroy", c);
  // Like docker's --rm: the anonymous volumes go with the container.
  if (c.spec.auto_remove) {
    if (auto st = remove_anonymous_volumes(c.spec); !st)
      spdlog::warn("container {} removed, its anonymous volumes not: {}", c.name, st.error().message);
  }
  return {};
}

Result<ContainerInfo> LinuxRuntime::inspect_container(const std::string& ref) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  return info(id);
}

Status LinuxRuntime::set_container_health(const std::string& ref, const ContainerHealth& health) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));  // not while it is being removed
  return containers_.save_health(id, health);
}

Result<std::vector<ContainerInfo>> LinuxRuntime::list_containers() {
  reap_interrupted_creates();  // `ps` and the daemon's every pass clear what a crash left
  ZL_TRY_ASSIGN(auto ids, containers_.ids());
  std::vector<ContainerInfo> out;
  for (const auto& id : ids) {
    auto c = info(id);
    if (c) {
      out.push_back(std::move(*c));
    } else if (c.error().kind != ErrorKind::not_found) {  // (one being removed right now vanishes)
      spdlog::warn("{} (zlayer rm -f {} removes it)", c.error().message, id.substr(0, 12));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
  return out;
}

Result<std::optional<ExitInfo>> LinuxRuntime::wait_container(const std::string& ref,
                                                             std::optional<std::chrono::milliseconds> timeout) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto c, info(id));
  if (c.status == ContainerStatus::exited) return c.exit;
  Result<std::optional<ExitInfo>> exit = std::nullopt;
  if (is_vm(c.spec)) {
    exit = vms(root_).wait(id, timeout);
  } else {
    ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
    exit = d->wait(id, containers_.paths(id), timeout);
  }
  ZL_TRY(exit);
  if (!exit) return exit;
  ZL_TRY_ASSIGN(auto done, info(id));  // the same exit, as recorded
  return done.exit;
}

Result<ExecResult> LinuxRuntime::exec(const std::string& ref, ExecOptions opts) {
  ZL_TRY_ASSIGN(auto c, running(ref, "exec in"));
  if (is_vm(c.spec)) return vms(root_).exec(c.id, opts);
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  return d->exec(c.id, opts);
}

Status LinuxRuntime::exec_stream(const std::string& ref, ExecOptions opts,
                                 const std::function<Status(const ExecEvent&)>& on_event) {
  ZL_TRY_ASSIGN(auto c, running(ref, "exec in"));
  if (is_vm(c.spec)) return vms(root_).exec_stream(c.id, opts, on_event);
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  return d->exec_stream(c.id, opts, on_event);
}

Result<int> LinuxRuntime::exec_interactive(const std::string& ref, ExecOptions opts, const TerminalIo& io) {
  ZL_TRY_ASSIGN(auto c, running(ref, "exec in"));
  if (is_vm(c.spec)) return unsupported("exec with a terminal in the VM of container {} is not supported yet", c.name);
  ZL_TRY_ASSIGN(ConmonRuntime * d, driver());
  return d->exec_interactive(c.id, opts, io);
}

Status LinuxRuntime::container_logs(const std::string& ref, LogQuery query,
                                    const std::function<Status(const LogEntry&)>& sink) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  if (query.follow && !query.stop) {
    query.stop = [this, id] {
      auto c = info(id);
      return !c || c->status == ContainerStatus::exited;
    };
  }
  ZL_TRY_ASSIGN(auto rec, containers_.load(id));
  return read_container_log(is_vm(rec.spec) ? vms(root_).log(id) : containers_.paths(id).log(), query, sink);
}

Result<ContainerStats> LinuxRuntime::container_stats(const std::string& ref) {
  ZL_TRY_ASSIGN(auto c, running(ref, "read stats of"));
  if (is_vm(c.spec)) {
    ZL_TRY_ASSIGN(auto vm_stats, vms(root_).stats(c.id));
    return ContainerStats{.id = c.id, .cgroup = vm_stats, .read_at_unix_nano = now_ns()};
  }
  ZL_TRY_ASSIGN(auto cg, read_cgroup_stats(c.cgroups_path));
  ContainerStats stats{.id = c.id, .cgroup = cg, .read_at_unix_nano = now_ns()};
  if (c.network && c.network->mode != net::NetworkMode::host && c.pid > 0) {
    if (auto dev = read_file(fmt::format("/proc/{}/net/dev", c.pid)))
      std::tie(stats.net_rx_bytes, stats.net_tx_bytes) = net_dev_bytes(*dev);
  }
  return stats;
}

Result<std::string> LinuxRuntime::container_ip(const std::string& ref) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto c, info(id));
  std::optional<net::ContainerNetwork> n = c.network;
  if (n && n->mode == net::NetworkMode::container) {
    ZL_TRY_ASSIGN(n, net_manager().load(n->joined));
  }
  if (!n) return not_found("container {} has no network address", c.name);
  if (n->mode == net::NetworkMode::host) return unsupported("container {} uses the host's network", c.name);
  if (n->endpoints.empty() || n->endpoints.front().address.empty())
    return not_found("container {} has no network address (network mode {})", c.name, to_string(n->mode));
  return n->endpoints.front().address;
}

Status LinuxRuntime::set_service_names(const std::string& ref, bool published) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto rec, containers_.load(id));
  auto service = rec.spec.labels.find(kServiceLabel);
  if (service == rec.spec.labels.end() || service->second.empty())
    return invalid_argument("container {} is not a replica of a service", rec.name);
  return net_manager().set_dns_names(id, service_names(service->second), published);
}

Status LinuxRuntime::connect_network(const std::string& ref, const std::string& network,
                                     const std::vector<std::string>& aliases) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(net::NetworkManager * nm, this->network());
  ZL_TRY(nm->connect_network(id, network, aliases));
  return {};
}

Status LinuxRuntime::disconnect_network(const std::string& ref, const std::string& network) {
  ZL_TRY_ASSIGN(auto id, containers_.resolve(ref));
  ZL_TRY_ASSIGN(auto lock, containers_.lock(id));
  ZL_TRY_ASSIGN(net::NetworkManager * nm, this->network());
  return nm->disconnect_network(id, network);
}

}  // namespace zl
