#include "runtime/windows/hcs_runtime.h"

#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>

#include "runtime/windows/portable/uvm_layout.h"
#include "runtime/windows/wclayer.h"
#include "runtime/windows/win_util.h"

namespace zl::win {
namespace {

// Runs `undo` on scope exit unless dismissed: the rollback of a half-imported image.
class Undo {
 public:
  explicit Undo(std::function<void()> f) : f_(std::move(f)) {}
  ~Undo() {
    if (f_) f_();
  }
  void dismiss() { f_ = nullptr; }

 private:
  std::function<void()> f_;
};

Status check_id(const std::string& id) {
  if (id.empty() || id.size() > 128)
    return invalid_argument("container name \"{}\" must have 1 to 128 characters", id);
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return invalid_argument("container name \"{}\" may only have letters, digits, '-', '_' and '.'", id);
  return {};
}

std::string uvm_system_id(const std::string& id) {
  return id + "-uvm";
}

bool process_alive(uint32_t pid) {
  if (pid == 0) return false;
  UniqueHandle h(OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!h) return false;
  DWORD code = 0;
  return GetExitCodeProcess(h.get(), &code) && code == STILL_ACTIVE;
}

}  // namespace

HcsConfig HcsConfig::from_env() {
  HcsConfig c;
  if (const char* r = std::getenv("ZLAYER_HCS_ROOT")) {
    c.root = r;
  } else {
    const char* pd = std::getenv("ProgramData");
    c.root = fs::path(pd ? pd : "C:\\ProgramData") / "zlayer" / "hcs";
  }
  if (const char* s = std::getenv("ZLAYER_NODE_SLICE")) c.node_slice = s;
  if (const char* s = std::getenv("ZLAYER_CLUSTER_CIDR")) c.cluster_cidr = s;
  return c;
}

Result<std::unique_ptr<HcsRuntime>> HcsRuntime::open(HcsConfig config) {
  for (const char* sub : {"layers", "scratch", "containers", "uvms"}) {
    std::error_code ec;
    fs::create_directories(config.root / sub, ec);
    if (ec) return io("create {}: {}", (config.root / sub).string(), ec.message());
  }
  std::unique_ptr<HcsRuntime> rt(new HcsRuntime(std::move(config)));
  if (rt->config_.node_slice) {
    ZL_TRY_ASSIGN(auto node, NodeNetwork::make(rt->config_.cluster_cidr, *rt->config_.node_slice));
    rt->network_ = std::make_unique<HcnNetwork>(std::move(node), rt->config_.adapter);
  }
  return rt;
}

Result<ContainerRecord> HcsRuntime::record(const std::string& id) {
  ZL_TRY(check_id(id));
  auto text = read_file(record_path(id));
  if (!text) return not_found("no container {}", id);
  return ContainerRecord::from_json(*text);
}

Status HcsRuntime::save_record(const ContainerRecord& r) {
  return write_file_atomic(record_path(r.id), r.to_json().dump(2));
}

Status HcsRuntime::save_images(const ImageIndex& idx) {
  return write_file_atomic(config_.root / "images.json", idx.dump());
}

Result<ImageIndex> HcsRuntime::images() {
  auto text = read_file(config_.root / "images.json");
  return ImageIndex::parse(text ? *text : std::string());
}

Result<std::string> HcsRuntime::reconcile() {
  ZL_TRY_ASSIGN(auto systems, list_systems());
  ZL_TRY_ASSIGN(auto records, list_records());
  std::set<std::string> known;
  int stale = 0;
  for (const auto& r : records) {
    // A record whose `zlayer run` died: HCS ended its system with the last handle; undo the rest.
    if (!process_alive(r.owner_pid) && !ComputeSystem::open(r.id)) {
      if (teardown(r, false)) ++stale;
      continue;
    }
    known.insert(r.id);
    known.insert(uvm_system_id(r.id));
  }
  int terminated = 0;
  for (const auto& id : zombie_systems(systems, kOwner, known)) {
    auto sys = ComputeSystem::open(id);
    if (sys && sys->terminate()) ++terminated;
  }
  std::set<std::string> live(known.begin(), known.end());
  auto reaped = reap_orphan_endpoints(live);
  if (!reaped) return tl::unexpected(reaped.error().wrap("reap HCN endpoints"));
  return fmt::format(
      "terminated {} zombie compute system(s), removed {} stale container(s), reaped {} orphan endpoint(s)",
      terminated, stale, *reaped);
}

Status HcsRuntime::teardown(const ContainerRecord& r, bool keep_uvm) {
  Status first;
  auto keep = [&](Status s) {
    if (!s && first) first = std::move(s);
  };
  if (r.uvm_runtime_id) {
    if (auto uvm = ComputeSystem::open(uvm_system_id(r.id))) (void)uvm->terminate();
    LocalUvmFileOps ops([](const Guid&, const fs::path&) -> Status { return {}; });
    if (!keep_uvm) keep(remove_uvm_dir(ops, config_.root, r.id));
  }
  if (r.endpoint && r.network_namespace) keep(detach({*r.endpoint, *r.network_namespace, r.address}));
  keep(remove_scratch_dir(config_.root / "scratch" / r.id));
  std::error_code ec;
  fs::remove(record_path(r.id), ec);
  if (!first) return tl::unexpected(first.error().wrap("remove container " + r.id));
  return {};
}

Result<HcsExit> HcsRuntime::run(const RunOptions& o, const ProcessOutput& out) {
  ZL_TRY(check_id(o.id));
  if (o.argv.empty())
    return invalid_argument("run {}: no command (zlayer does not read Windows image configs yet)", o.id);
  if (fs::exists(record_path(o.id))) return already_exists("container {} already exists", o.id);
  ZL_TRY(hcs_api());  // the clear error before anything is made
  if (o.address && !network_)
    return invalid_argument("run {}: --ip needs the node's slice (ZLAYER_NODE_SLICE)", o.id);
  ZL_TRY_ASSIGN(auto index, images());
  ZL_TRY_ASSIGN(auto chain, index.chain(o.image));

  ContainerRecord rec;
  rec.id = o.id;
  rec.image = o.image;
  rec.isolation = o.isolation.value_or(config_.default_isolation);
  rec.layers = chain;
  rec.command = o.argv;
  rec.created_unix = static_cast<int64_t>(std::time(nullptr));
  rec.owner_pid = static_cast<uint32_t>(GetCurrentProcessId());
  if (auto mib = memory_mib(o.memory_bytes)) rec.memory_limit = *mib * 1024 * 1024;
  ZL_TRY(save_record(rec));               // first: whatever follows, the record says what to undo
  auto exit = run_recorded(rec, o, out);  // every handle is closed when it returns
  bool keep_uvm = !exit && keep_uvm_on_failure_from_env();
  auto removed = teardown(rec, keep_uvm);
  if (!exit) return tl::unexpected(exit.error().wrap("run " + o.id));
  if (!removed) return tl::unexpected(removed.error());
  return exit;
}

Result<HcsExit> HcsRuntime::run_recorded(ContainerRecord& rec, const RunOptions& o,
                                         const ProcessOutput& out) {
  const auto& chain = rec.layers;
  ZL_TRY_ASSIGN(auto scratch,
                ScratchLayer::create(config_.root / "scratch" / o.id, config_.scratch_size_gib, chain));
  rec.scratch_path = scratch.volume_path();
  ZL_TRY(save_record(rec));
  if (o.address) {
    ZL_TRY_ASSIGN(uint32_t addr, net::parse_ipv4(*o.address));
    std::optional<uint32_t> dns;
    if (o.dns_server) {
      ZL_TRY_ASSIGN(dns, net::parse_ipv4(*o.dns_server));
    }
    ZL_TRY_ASSIGN(auto attachment, network_->attach(o.id, addr, dns, o.dns_domain));
    rec.endpoint = attachment.endpoint;
    rec.network_namespace = attachment.namespace_id;
    rec.address = attachment.address;
    ZL_TRY(save_record(rec));
  }

  ContainerDocInput doc_in{
      o.cpus, o.memory_bytes, o.hostname.value_or(o.id), chain, rec.scratch_path, rec.network_namespace, {}};
  // Declared so they are destroyed in reverse: the VM's handle closes before its files go.
  LocalUvmFileOps uvm_ops([](const Guid& vm, const fs::path& p) { return grant_vm_access(vm, p); });
  std::optional<Uvm> uvm;
  std::optional<ComputeSystem> uvm_system;
  if (rec.isolation == Isolation::hyperv) {
    rec.uvm_runtime_id = random_guid();
    ZL_TRY(save_record(rec));
    // The utility VM's payload comes with the image, in its base layer (UtilityVM/).
    auto boot = UvmBootFiles::in_layer(chain.back().path);
    auto prepared =
        Uvm::prepare(uvm_ops, config_.root, o.id, boot, *rec.uvm_runtime_id, keep_uvm_on_failure_from_env());
    if (!prepared) return tl::unexpected(prepared.error());
    uvm.emplace(std::move(*prepared));
    for (const auto& layer : chain)  // the image's layers reach the VM too
      ZL_TRY(grant_vm_access(*rec.uvm_runtime_id, layer.path));
    const auto& p = uvm->paths();
    ZL_TRY_ASSIGN(auto vm_doc, utility_vm_document({*rec.uvm_runtime_id, o.cpus, o.memory_bytes,
                                                    p.sandbox_vhdx.string(), boot.os_files_dir.string(),
                                                    p.debug_dir.string(), p.crash_dir.string()}));
    auto vm = ComputeSystem::create(uvm_system_id(o.id), vm_doc.dump());
    if (!vm) return tl::unexpected(vm.error());
    uvm_system.emplace(std::move(*vm));
    ZL_TRY(uvm_system->start());
    doc_in.hosting_system_id = uvm_system_id(o.id);
  }
  ZL_TRY_ASSIGN(auto doc, container_document(doc_in));
  ZL_TRY_ASSIGN(auto system, ComputeSystem::create(o.id, doc.dump()));
  ZL_TRY(system.start());

  // The container's output, streamed to the caller and kept for `zlayer logs`.
  std::ofstream log(config_.root / "containers" / (o.id + ".log"), std::ios::binary | std::ios::app);
  std::mutex log_mu;
  auto tee = [&](const std::function<void(std::string_view)>& sink) {
    return [&, sink](std::string_view chunk) {
      {
        std::lock_guard lock(log_mu);
        log.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        log.flush();
      }
      if (sink) sink(chunk);
    };
  };
  ZL_TRY_ASSIGN(auto params, process_parameters({o.argv, o.workdir, o.env, false}));
  auto code = run_process(system, params.dump(), {tee(out.on_stdout), tee(out.on_stderr)});
  // The process's code; the system's exit when the service went away or the process left none.
  HcsExit exit;
  auto ended = system.wait(std::chrono::milliseconds(0));
  if (ended && ended->reason == ExitReason::runtime_error)
    exit = *ended;
  else if (code)
    exit = {*code, ExitReason::exited};
  else if (ended)
    exit = *ended;
  else
    return tl::unexpected(code.error());
  (void)system.shutdown(std::chrono::seconds(10));
  if (uvm_system) (void)uvm_system->shutdown(std::chrono::seconds(10));
  if (uvm) uvm->release();  // teardown removes its directory with the rest
  return exit;
}

Result<int> HcsRuntime::exec(const std::string& id, const std::vector<std::string>& argv,
                             const ProcessOutput& out) {
  ZL_TRY(record(id));
  ZL_TRY_ASSIGN(auto params, process_parameters({argv, {}, {}, false}));
  ZL_TRY_ASSIGN(auto system, ComputeSystem::open(id));
  return run_process(system, params.dump(), out);
}

Status HcsRuntime::stop(const std::string& id, std::chrono::seconds timeout) {
  ZL_TRY(record(id));
  ZL_TRY_ASSIGN(auto system, ComputeSystem::open(id));
  return system.shutdown(timeout);
}

Status HcsRuntime::kill(const std::string& id, const std::string& signal) {
  ZL_TRY(check_kill_signal(signal));
  ZL_TRY(record(id));
  ZL_TRY_ASSIGN(auto system, ComputeSystem::open(id));
  return system.terminate();
}

Status HcsRuntime::remove(const std::string& id, bool force) {
  ZL_TRY_ASSIGN(auto rec, record(id));
  ZL_TRY(hcs_api());
  if (auto system = ComputeSystem::open(id)) {
    if (!force) return conflict("container {} is running: stop it first or remove with --force", id);
    ZL_TRY(system->terminate());
  }
  std::error_code ec;
  fs::remove(config_.root / "containers" / (id + ".log"), ec);
  return teardown(rec, false);
}

Result<WindowsStats> HcsRuntime::stats(const std::string& id) {
  ZL_TRY_ASSIGN(auto rec, record(id));
  ZL_TRY_ASSIGN(auto system, ComputeSystem::open(id));
  ZL_TRY_ASSIGN(auto json, system.properties(R"({"PropertyTypes":["Statistics"]})"));
  return translate_stats(json, rec.memory_limit);
}

Result<std::vector<ContainerRecord>> HcsRuntime::list_records() {
  std::vector<ContainerRecord> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(config_.root / "containers", ec)) {
    if (e.path().extension() != ".json") continue;
    auto text = read_file(e.path());
    if (!text) continue;
    if (auto r = ContainerRecord::from_json(*text)) out.push_back(std::move(*r));
  }
  if (ec) return io("list {}: {}", (config_.root / "containers").string(), ec.message());
  return out;
}

std::string HcsRuntime::state(const ContainerRecord& r) {
  if (!hcs_api()) return "unknown";
  if (ComputeSystem::open(r.id)) return "running";
  return process_alive(r.owner_pid) ? "starting" : "stale";
}

Result<std::vector<ComputeSystemSummary>> HcsRuntime::list_systems() {
  ZL_TRY_ASSIGN(auto json, ComputeSystem::enumerate_owned());
  return parse_compute_systems(json);
}

Status HcsRuntime::import_image(const std::string& name, const std::vector<fs::path>& sources) {
  if (sources.empty()) return invalid_argument("import {}: no layer folders", name);
  ZL_TRY(hcs_storage_api());
  ZL_TRY_ASSIGN(auto index, images());
  std::vector<HcsLayer> chain;  // child first
  Undo undo([&] {
    for (const auto& l : chain) (void)destroy_layer(l.path);
  });
  for (const auto& src : sources) {
    Guid id = random_guid();
    HcsLayer layer{id, (config_.root / "layers" / id.str()).string()};
    ZL_TRY(import_layer(layer.path, src, chain));
    chain.insert(chain.begin(), layer);
  }
  index.put(name, chain);
  ZL_TRY(save_images(index));
  undo.dismiss();
  return {};
}

Status HcsRuntime::tag_image(const std::string& source, const std::string& target) {
  ZL_TRY_ASSIGN(auto index, images());
  ZL_TRY(index.tag(source, target));
  return save_images(index);
}

Status HcsRuntime::remove_image(const std::string& name) {
  ZL_TRY_ASSIGN(auto index, images());
  ZL_TRY_ASSIGN(auto records, list_records());
  for (const auto& r : records)
    if (r.image == name) return conflict("image {} is in use by container {}", name, r.id);
  ZL_TRY(index.remove(name));
  return save_images(index);  // its layers go with the next prune (other tags may share them)
}

Result<int> HcsRuntime::prune_images() {
  ZL_TRY_ASSIGN(auto index, images());
  ZL_TRY_ASSIGN(auto records, list_records());
  std::set<std::string> in_use;
  for (const auto& r : records)
    for (const auto& l : r.layers) in_use.insert(l.id.str());
  std::vector<Guid> on_disk;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(config_.root / "layers", ec))
    if (auto g = parse_guid(e.path().filename().string())) on_disk.push_back(*g);
  int removed = 0;
  for (const auto& g : index.unreferenced(on_disk, in_use)) {
    ZL_TRY(destroy_layer(config_.root / "layers" / g.str()));
    ++removed;
  }
  return removed;
}

}  // namespace zl::win
