#include "agent/service_manager.h"

#include <malloc.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdlib>

#include "agent/health_probe.h"
#include "common/failpoint.h"
#include "agent/replica_spec.h"
#include "runtime/vm/vm_runtime.h"
#include "spec/cron.h"
#include "spec/parse.h"

namespace zl {

using nlohmann::json;
using spec::DependencyCondition;
using spec::DeploymentSpec;
using spec::HealthCheck;
using spec::HealthCheckType;
using spec::HealthSpec;
using spec::ImageSpec;
using spec::ResourceType;
using spec::RestartKind;
using spec::RestartPolicy;
using spec::ScaleMode;
using spec::ServiceSpec;
using spec::TimeoutAction;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr const char* kHashLabel = kSpecHashLabel;
constexpr size_t kHealthOutputMax = 4096;  // of a probe's output kept for inspect (docker's limit)

int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string label(const ContainerInfo& c, const char* key) {
  auto it = c.spec.labels.find(key);
  return it == c.spec.labels.end() ? std::string() : it->second;
}

int64_t replica_of(const ContainerInfo& c) {
  try {
    return std::stoll(label(c, kReplicaLabel));
  } catch (...) {
    return -1;
  }
}

bool is_up(const ContainerInfo& c) {
  return c.status == ContainerStatus::running || c.status == ContainerStatus::paused;
}

std::chrono::milliseconds ran_for(const ContainerInfo& c) {
  if (c.started_at == 0 || c.finished_at < c.started_at) return 0ms;
  return std::chrono::milliseconds((c.finished_at - c.started_at) / 1'000'000);
}

std::string exit_text(const ContainerInfo& c) {
  if (!c.exit) return "exited";
  switch (c.exit->reason) {
    case ExitInfo::Reason::signal:
      return fmt::format("killed by signal {} (exit {})", c.exit->signal, c.exit->exit_code);
    case ExitInfo::Reason::oom_killed:
      return fmt::format("out of memory (exit {})", c.exit->exit_code);
    case ExitInfo::Reason::runtime_error:
      return "runtime error: " + c.exit->message;
    default:
      return fmt::format("exited with code {}", c.exit->exit_code);
  }
}

std::string short_hash(const std::string& hash) {
  return hash.substr(0, 8);
}

// Services in an order where each comes after what it depends on (the parser refused cycles);
// otherwise in the file's order.
std::vector<std::string> start_order(const DeploymentSpec& d) {
  std::vector<std::string> out;
  std::set<std::string> placed;
  while (out.size() < d.services.size()) {
    size_t before = out.size();
    for (const auto& s : d.services) {
      if (placed.count(s.name)) continue;
      bool ready = std::all_of(s.depends.begin(), s.depends.end(), [&](const auto& dep) {
        return placed.count(dep.service) || !d.find_service(dep.service);
      });
      if (!ready) continue;
      out.push_back(s.name);
      placed.insert(s.name);
    }
    if (out.size() == before) {  // a cycle after all: keep the rest in file order
      for (const auto& s : d.services)
        if (!placed.count(s.name)) out.push_back(s.name), placed.insert(s.name);
    }
  }
  return out;
}

// The spec's restart policy, or the daemon's default: services always come back, jobs and cron
// runs are not repeated; the delay starts at 1 s.
RestartPolicy restart_policy_of(const ServiceSpec& s) {
  RestartPolicy p = s.restart_policy.value_or(
      RestartPolicy{.kind = s.rtype == ResourceType::service ? RestartKind::always : RestartKind::no});
  if (!p.delay) p.delay = std::chrono::seconds(1);
  return p;
}

}  // namespace

// ---- in-memory bookkeeping ----

struct ServiceManager::Replica {
  RestartBackoff backoff;
  std::optional<Clock::time_point> restart_at;  // a restart is due then
  std::string last_error;
  int64_t restarts = 0;  // total, persisted
  // Health of the current container (since it last started).
  std::string container_id;
  int64_t container_started_at = 0;  // its start as the runtime reports it: a restart resets health
  std::string health = "none";       // none, starting, healthy, unhealthy
  int failures = 0;                  // failed probes in a row
  std::vector<HealthProbe> probes;   // the last ones, oldest first
  ContainerHealth published;         // what its health.json says (written when status or streak change)
  Clock::time_point started{};
  Clock::time_point last_check{};
  bool checking = false;
  // Adaptive scaling: the last CPU sample.
  uint64_t cpu_usec = 0;
  Clock::time_point cpu_at{};
};

struct ServiceManager::Service {
  std::string name;
  ServiceSpec spec;
  std::string hash;
  RestartPolicy policy;  // with the defaults filled in
  std::optional<int64_t> scale_override;
  int64_t adaptive = 0;  // current replicas in adaptive mode
  Clock::time_point last_scaled{};
  std::string phase =
      "pending";  // pending, waiting, pulling, running, degraded, CrashLoopBackOff, completed, failed
  std::string message;
  std::optional<Clock::time_point> waiting_since;
  bool deps_passed = false;
  bool image_ready = false, pulling = false;
  std::string image_ref;  // the image as the store names it, once pulled
  Clock::time_point pull_retry_at{};
  std::optional<std::chrono::system_clock::time_point> next_run;  // cron
  std::map<int64_t, Replica> replicas;
  bool restart_requested = false;
  std::set<std::string> restart_pending;  // container ids still to restart for a `restart`
};

struct ServiceManager::Deployment {
  DeploymentRecord record;
  DeploymentSpec spec;
  std::vector<std::unique_ptr<Service>> services;  // in dependency order
  Service* find(const std::string& name) {
    for (auto& s : services)
      if (s->name == name) return s.get();
    return nullptr;
  }
};

ServiceManager::ServiceManager(Runtime& runtime, ImageStore& images, StateDb& db,
                               boost::asio::thread_pool& pool, ServiceManagerOptions opts)
    : runtime_(runtime), images_(images), db_(db), pool_(pool), opts_(std::move(opts)) {
  if (!opts_.env_lookup)
    opts_.env_lookup = [](const std::string& k) -> std::optional<std::string> {
      const char* v = std::getenv(k.c_str());
      return v ? std::optional<std::string>(v) : std::nullopt;
    };
}

ServiceManager::~ServiceManager() {
  stop();
}

Status ServiceManager::load(const DeploymentRecord& rec) {
  ZL_TRY_ASSIGN(auto spec, spec::parse_deployment(rec.spec_yaml, rec.file_name));
  ZL_TRY(spec::resolve_env(spec, opts_.env_lookup));
  auto d = std::make_unique<Deployment>();
  d->record = rec;
  ZL_TRY_ASSIGN(auto overrides, db_.scale_overrides(rec.name));
  ZL_TRY_ASSIGN(auto counters, db_.counters(rec.name));
  for (const auto& name : start_order(spec)) {
    auto s = std::make_unique<Service>();
    s->name = name;
    s->spec = *spec.find_service(name);
    s->hash = spec::spec_hash(s->spec);
    s->policy = restart_policy_of(s->spec);
    if (auto it = overrides.find(name); it != overrides.end()) s->scale_override = it->second;
    const auto& sc = s->spec.scale;
    s->adaptive = sc.mode == ScaleMode::adaptive ? static_cast<int64_t>(sc.min) : 0;
    for (const auto& [key, c] : counters) {
      if (key.first != name) continue;
      auto& r = s->replicas[key.second];
      r.restarts = c.restarts;
      r.last_error = c.last_error;
    }
    // Keep what we knew about a service whose spec did not change.
    if (auto old = deployments_.find(rec.name); old != deployments_.end()) {
      if (Service* prev = old->second->find(name); prev && prev->hash == s->hash) {
        s->replicas = std::move(prev->replicas);
        s->adaptive = prev->adaptive;
        s->deps_passed = prev->deps_passed;
        s->image_ready = prev->image_ready;
        s->image_ref = prev->image_ref;
        s->next_run = prev->next_run;
      }
    }
    d->services.push_back(std::move(s));
  }
  d->spec = std::move(spec);
  deployments_[rec.name] = std::move(d);
  return {};
}

Status ServiceManager::start() {
  ZL_TRY_ASSIGN(auto recs, db_.deployments());
  {
    std::lock_guard lock(mu_);
    for (const auto& rec : recs) {
      if (auto st = load(rec); !st)
        spdlog::error("deployment {}: {}; keeping its containers as they are", rec.name, st.error().message);
    }
  }
  spdlog::info("agent: {} deployment(s) loaded from the state db", recs.size());
  thread_ = std::thread([this] { loop(); });
  return {};
}

void ServiceManager::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ServiceManager::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void ServiceManager::loop() {
  bool was_busy = false;
  while (true) {
    reconcile_once();
    std::unique_lock lock(mu_);
    // A burst of creates and removes leaves the heap full of free pages: back to the system
    // once it is over (an idle daemon with 50 replicas: -0.7 MB RSS).
    if (was_busy && busy_.empty()) ::malloc_trim(0);
    was_busy = !busy_.empty();
    cv_.wait_for(lock, opts_.tick, [&] { return stopping_ || woken_; });
    woken_ = false;
    if (stopping_) return;
  }
}

Result<json> ServiceManager::apply(const std::string& yaml, const std::string& file_name) {
  ZL_TRY_ASSIGN(auto spec, spec::parse_deployment(yaml, file_name));
  ZL_TRY(spec::resolve_env(spec, opts_.env_lookup));  // a missing $E: variable is the deployer's error
  ZL_TRY_ASSIGN(auto rec, db_.put_deployment(spec.deployment, file_name, yaml));
  ZL_FAILPOINT("agent.apply.after-db");
  {
    std::lock_guard lock(mu_);
    ZL_TRY(load(rec));
  }
  spdlog::info("deployment={} generation={} applied from {}", rec.name, rec.generation, file_name);
  wake();
  return status(rec.name);
}

void ServiceManager::submit(const std::string& key, std::function<void()> fn) {
  busy_.insert(key);
  boost::asio::post(pool_, [this, key, fn = std::move(fn)] {
    fn();
    {
      std::lock_guard lock(mu_);
      busy_.erase(key);
      woken_ = true;
    }
    cv_.notify_all();
  });
}

bool ServiceManager::busy(const std::string& key) const {
  return busy_.count(key) > 0;
}

void ServiceManager::reconcile_once() {
  std::lock_guard pass(reconcile_mu_);
  auto all = runtime_.list_containers();
  if (!all) {
    spdlog::error("agent: cannot list containers: {}", all.error().message);
    return;
  }
  std::lock_guard lock(mu_);
  // Kept between passes: identity, labels and state; not the spec and network records, which
  // with many replicas would be most of the daemon's heap.
  last_seen_.clear();
  for (const auto& c : *all) {
    ContainerInfo& kept = last_seen_.emplace_back();
    kept.id = c.id;
    kept.name = c.name;
    kept.spec.labels = c.spec.labels;
    kept.status = c.status;
    kept.pid = c.pid;
    kept.created_at = c.created_at;
    kept.started_at = c.started_at;
    kept.finished_at = c.finished_at;
    kept.exit = c.exit;
  }
  for (auto& [name, d] : deployments_) reconcile_deployment(*d, *all);
  // Containers of deployments that are gone (undeployed, also by a daemon that died halfway).
  for (const auto& c : *all) {
    std::string dep = label(c, kDeploymentLabel);
    if (dep.empty() || deployments_.count(dep) || busy(c.id)) continue;
    spdlog::info("agent: removing container {} of deployment {}, which is no longer deployed", c.name, dep);
    discard_container(c);
  }
}

void ServiceManager::reconcile_deployment(Deployment& d, const std::vector<ContainerInfo>& all) {
  for (auto& s : d.services) {
    std::vector<const ContainerInfo*> mine;
    for (const auto& c : all)
      if (label(c, kDeploymentLabel) == d.record.name && label(c, kServiceLabel) == s->name)
        mine.push_back(&c);
    reconcile_service(d, *s, std::move(mine));
  }
}

bool ServiceManager::dependencies_met(Deployment& d, Service& s) {
  if (s.deps_passed) return true;
  if (!s.waiting_since) s.waiting_since = Clock::now();
  std::vector<std::string> unmet;
  bool fail = false;
  for (const auto& dep : s.spec.depends) {
    Service* other = d.find(dep.service);
    bool ok = false;
    if (other) {
      int64_t running = 0, healthy = 0;
      bool job_done = other->phase == "completed";
      for (const auto& c : last_seen_) {
        if (label(c, kDeploymentLabel) != d.record.name || label(c, kServiceLabel) != other->name) continue;
        if (label(c, kHashLabel) != other->hash) continue;
        if (is_up(c)) ++running;
        if (is_up(c) && is_healthy(*other, c)) ++healthy;
      }
      switch (dep.condition) {
        case DependencyCondition::started:
          ok = running > 0 || job_done;
          break;
        case DependencyCondition::healthy:
          ok = healthy > 0 || job_done;
          break;
        case DependencyCondition::ready:
          ok = (healthy >= std::max<int64_t>(1, desired_replicas(*other))) || job_done;
          break;
      }
    }
    if (ok) continue;
    auto waited = Clock::now() - *s.waiting_since;
    if (waited >= dep.timeout) {
      switch (dep.on_timeout) {
        case TimeoutAction::fail:
          fail = true;
          unmet.push_back(fmt::format("{} ({}) not met within {}", dep.service, to_string(dep.condition),
                                      spec::format_duration(dep.timeout)));
          break;
        case TimeoutAction::warn:
          spdlog::warn("deployment={} service={}: dependency {} ({}) not met in time; starting anyway",
                       d.record.name, s.name, dep.service, to_string(dep.condition));
          break;
        case TimeoutAction::continue_:
          break;
      }
      continue;
    }
    unmet.push_back(fmt::format("{} ({})", dep.service, to_string(dep.condition)));
  }
  if (fail) {
    s.phase = "failed";
    s.message = "dependency " + unmet.front();
    return false;
  }
  if (!unmet.empty()) {
    s.phase = "waiting";
    std::string list;
    for (const auto& u : unmet) list += (list.empty() ? "" : ", ") + u;
    s.message = "waiting for " + list;
    return false;
  }
  s.deps_passed = true;
  return true;
}

bool ServiceManager::ensure_image(Deployment& d, Service& s) {
  if (s.image_ready) return true;
  if (s.pulling || Clock::now() < s.pull_retry_at) return false;
  s.pulling = true;
  s.phase = "pulling";
  s.message = "pulling " + s.spec.image.name;
  std::string key = "pull/" + d.record.name + "/" + s.name;
  std::string dep = d.record.name, svc = s.name, hash = s.hash;
  ImageSpec image = s.spec.image;
  submit(key, [this, dep, svc, hash, image] {
    auto result = [&]() -> Result<std::string> {
      ZL_TRY_ASSIGN(auto ref, Reference::parse(image.name));
      Puller puller(images_, opts_.registry);
      PullOptions po;
      po.policy = image.pull_policy;
      ZL_TRY_ASSIGN(auto rec, puller.pull(ref, po));
      return rec.reference;
    }();
    std::lock_guard lock(mu_);
    ++metrics_.pulls;
    auto it = deployments_.find(dep);
    Service* s = it == deployments_.end() ? nullptr : it->second->find(svc);
    if (!s || s->hash != hash) return;
    s->pulling = false;
    if (result) {
      s->image_ready = true;
      s->image_ref = *result;
      s->message.clear();
    } else {
      ++metrics_.pull_failures;
      s->phase = "failed";
      s->message = result.error().message;
      s->pull_retry_at = Clock::now() + 10s;
      spdlog::error("deployment={} service={}: {}", dep, svc, result.error().message);
    }
  });
  return false;
}

ServiceManager::Replica& ServiceManager::slot(Service& s, int64_t index) {
  auto it = s.replicas.find(index);
  if (it == s.replicas.end()) {
    it = s.replicas.emplace(index, Replica{}).first;
    it->second.backoff =
        RestartBackoff(std::chrono::duration_cast<std::chrono::milliseconds>(*s.policy.delay));
  }
  return it->second;
}

int64_t ServiceManager::desired_replicas(const Service& s) const {
  if (s.scale_override) return *s.scale_override;
  switch (s.spec.scale.mode) {
    case ScaleMode::fixed:
      return s.spec.scale.replicas;
    case ScaleMode::adaptive:
      return s.adaptive;
    case ScaleMode::manual:
      return std::max<int64_t>(1, s.spec.scale.replicas);
  }
  return 1;
}

bool ServiceManager::is_healthy(const Service& s, const ContainerInfo& c) const {
  if (!is_up(c)) return false;
  if (!s.spec.health) return true;
  auto it = s.replicas.find(replica_of(c));
  return it != s.replicas.end() && it->second.container_id == c.id && it->second.health == "healthy";
}

void ServiceManager::reconcile_service(Deployment& d, Service& s, std::vector<const ContainerInfo*> mine) {
  // Containers of an older spec that is not being rolled (jobs, crons) go at once.
  if (!dependencies_met(d, s)) return;
  if (!ensure_image(d, s)) return;
  switch (s.spec.rtype) {
    case ResourceType::service:
      reconcile_replicas(d, s, mine);
      break;
    case ResourceType::job:
      reconcile_job(d, s, mine);
      break;
    case ResourceType::cron:
      reconcile_cron(d, s, mine);
      break;
  }
}

void ServiceManager::create_replica(Deployment& d, Service& s, int64_t index,
                                    const std::string& name_suffix) {
  std::string key = fmt::format("slot/{}/{}/{}", d.record.name, s.name, name_suffix);
  if (busy(key)) return;
  auto cs = container_spec_for(d.spec, s.name, static_cast<int>(index));
  if (!cs) {
    s.phase = "failed";
    s.message = cs.error().message;
    return;
  }
  // The name is fixed by deployment, service, replica and spec: a daemon that dies halfway and
  // tries again finds the name taken by the container it made, never makes a second one.
  cs->name = fmt::format("{}-{}-{}-{}", d.record.name, s.name, name_suffix, short_hash(s.hash));
  cs->image = s.image_ref;
  cs->labels[kReplicaLabel] = std::to_string(index);
  cs->labels[kHashLabel] = s.hash;
  std::string dep = d.record.name, svc = s.name;
  auto post_start = s.spec.lifecycle.post_start;
  submit(key, [this, spec = std::move(*cs), dep, svc, index, post_start] {
    Status st = [&]() -> Status {
      auto existing = runtime_.inspect_container(spec.name);
      std::string id;
      if (existing) {
        id = existing->id;
      } else {
        ZL_TRY_ASSIGN(auto info, runtime_.create_container(spec));
        id = info.id;
        ZL_FAILPOINT("agent.replica.after-create");
      }
      ZL_TRY(runtime_.start_container(id));
      ZL_FAILPOINT("agent.replica.after-start");
      run_hook(id, post_start, "post_start");
      return {};
    }();
    if (!st) {
      spdlog::error("deployment={} service={} replica={}: {}", dep, svc, index, st.error().message);
      std::lock_guard lock(mu_);
      auto it = deployments_.find(dep);
      if (Service* s = it == deployments_.end() ? nullptr : it->second->find(svc)) {
        auto& r = slot(*s, index);
        r.last_error = st.error().message;
        r.restart_at = Clock::now() + r.backoff.on_failure(0ms);
      }
    } else {
      spdlog::info("deployment={} service={} replica={} container={} started", dep, svc, index, spec.name);
    }
  });
}

void ServiceManager::run_hook(const std::string& id, const std::optional<spec::LifecycleHook>& hook,
                              std::string_view what) {
  if (!hook) return;
  ExecOptions eo;
  eo.args = hook->command;
  eo.timeout = std::chrono::seconds(30);
  auto res = runtime_.exec(id, eo);
  if (!res)
    spdlog::warn("container={} {} hook: {}", id.substr(0, 12), what, res.error().message);
  else if (res->exit_code != 0)
    spdlog::warn("container={} {} hook exited with {}", id.substr(0, 12), what, res->exit_code);
}

std::optional<spec::LifecycleHook> ServiceManager::pre_stop_of(const ContainerInfo& c) const {
  auto it = deployments_.find(label(c, kDeploymentLabel));
  if (it == deployments_.end()) return std::nullopt;
  for (const auto& s : it->second->services)
    if (s->name == label(c, kServiceLabel) && s->hash == label(c, kHashLabel))
      return s->spec.lifecycle.pre_stop;
  return std::nullopt;
}

void ServiceManager::discard_container(const ContainerInfo& c) {
  std::string id = c.id, name = c.name;
  auto pre_stop = is_up(c) ? pre_stop_of(c) : std::nullopt;
  submit(c.id, [this, id, name, pre_stop] {
    run_hook(id, pre_stop, "pre_stop");
    if (auto st = runtime_.stop_container(id); !st && st.error().kind != ErrorKind::not_found)
      spdlog::debug("stop {}: {}", name, st.error().message);
    ZL_FAILPOINT("agent.discard.after-stop");
    if (auto st = runtime_.remove_container(id, true); !st && st.error().kind != ErrorKind::not_found)
      spdlog::error("remove container {}: {}", name, st.error().message);
  });
}

void ServiceManager::restart_container(Deployment& d, Service& s, int64_t index, const ContainerInfo& c,
                                       std::string reason) {
  auto& r = slot(s, index);
  ++r.restarts;
  ++metrics_.restarts;
  r.last_error = reason;
  if (r.health == "healthy") publish_service_names(c.id, false);  // until it is healthy again
  r.health = s.spec.health ? "starting" : "none";
  r.failures = 0;
  (void)db_.record_restart(d.record.name, s.name, index, reason);
  spdlog::info("deployment={} service={} replica={} restarting ({}), restart #{}", d.record.name, s.name,
               index, reason, r.restarts);
  std::string id = c.id;
  bool up = is_up(c);
  auto pre_stop = up ? s.spec.lifecycle.pre_stop : std::nullopt;
  auto post_start = s.spec.lifecycle.post_start;
  submit(c.id, [this, id, up, pre_stop, post_start] {
    if (up) {
      run_hook(id, pre_stop, "pre_stop");
      (void)runtime_.stop_container(id);
    }
    if (auto st = runtime_.start_container(id); !st) {
      spdlog::error("restart container {}: {}", id.substr(0, 12), st.error().message);
      return;
    }
    run_hook(id, post_start, "post_start");
  });
}

void ServiceManager::publish_service_names(const std::string& id, bool published) {
  if (auto st = runtime_.set_service_names(id, published); !st)
    spdlog::warn("container={}: {} its service names: {}", id.substr(0, 12), published ? "publish" : "withdraw",
                 st.error().message);
}

void ServiceManager::publish_health(const std::string& container_id, Replica& r) {
  ContainerHealth h{.status = r.health, .failing_streak = r.failures, .log = r.probes};
  // Only a change of judgement is written, not every passing probe's log line.
  if (h.status == r.published.status && h.failing_streak == r.published.failing_streak) return;
  r.published = h;
  health_to_write_[container_id] = std::move(h);
  if (health_writer_busy_) return;
  health_writer_busy_ = true;
  boost::asio::post(pool_, [this] {
    while (true) {
      std::map<std::string, ContainerHealth> batch;
      {
        std::lock_guard lock(mu_);
        if (health_to_write_.empty()) {
          health_writer_busy_ = false;
          return;
        }
        batch.swap(health_to_write_);
      }
      for (const auto& [id, health] : batch)
        if (auto st = runtime_.set_container_health(id, health);
            !st && st.error().kind != ErrorKind::not_found)
          spdlog::warn("container {}: cannot record its health: {}", id.substr(0, 12), st.error().message);
    }
  });
}

void ServiceManager::check_health(Service& s, const ContainerInfo& c) {
  if (!s.spec.health || !is_up(c) || c.pid <= 0) return;
  int64_t index = replica_of(c);
  auto& r = slot(s, index);
  if (r.container_id != c.id || r.container_started_at != c.started_at || r.health == "none") {
    if (r.container_id != c.id) {
      r.probes.clear();  // a restarted container keeps the probes that got it restarted
      r.published = {};
    }
    r.container_id = c.id;
    r.container_started_at = c.started_at;
    r.health = "starting";
    r.failures = 0;
    r.started = Clock::now();  // start_grace counts from here, after a restart too
    r.last_check = {};
    publish_health(c.id, r);
  }
  const HealthSpec& h = *s.spec.health;
  auto now = Clock::now();
  if (r.checking || now < r.started + h.start_grace || now < r.last_check + h.interval) return;
  r.checking = true;
  r.last_check = now;
  int pid = c.pid;
  std::string id = c.id, dep = label(c, kDeploymentLabel), svc = s.name;
  std::string vm_address;  // a VM's service answers on its address (isolation: vm)
  if (vm::is_vm(c.spec) && c.network && !c.network->endpoints.empty()) vm_address = c.network->endpoints.front().address;
  HealthCheck check = h.check;
  auto timeout = h.timeout;
  boost::asio::post(pool_, [this, pid, id, dep, svc, index, check, timeout, vm_address] {
    HealthProbe probe{.start_unix_nano = now_unix_nano()};
    Status result = [&]() -> Status {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
      switch (check.type) {
        case HealthCheckType::tcp:
          return probe_tcp(pid, check.port, ms, vm_address);
        case HealthCheckType::http:
          return probe_http(pid, check.url, check.port, check.expect_status, ms, vm_address);
        case HealthCheckType::command: {
          ExecOptions eo;
          eo.args = check.command;
          eo.timeout = std::chrono::ceil<std::chrono::seconds>(ms);
          ZL_TRY_ASSIGN(auto res, runtime_.exec(id, eo));
          probe.exit_code = res.exit_code;
          probe.output = res.out + res.err;
          if (res.exit_code != 0) {
            std::string out = res.err.empty() ? res.out : res.err;
            if (out.size() > 200) out.resize(200);
            while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
            return unavailable("health command exited with {}{}", res.exit_code,
                               out.empty() ? "" : ": " + out);
          }
          return {};
        }
      }
      return {};
    }();
    probe.end_unix_nano = now_unix_nano();
    if (!result) {
      if (probe.exit_code == 0) probe.exit_code = 1;
      if (probe.output.empty()) probe.output = result.error().message;
    }
    if (probe.output.size() > kHealthOutputMax) probe.output.resize(kHealthOutputMax);
    {
      std::lock_guard lock(mu_);
      auto it = deployments_.find(dep);
      Service* s = it == deployments_.end() ? nullptr : it->second->find(svc);
      if (!s) return;
      auto& r = slot(*s, index);
      r.checking = false;
      if (r.container_id != id) return;
      std::string was = r.health;
      r.probes.push_back(std::move(probe));
      if (r.probes.size() > ContainerHealth::kLogSize) r.probes.erase(r.probes.begin());
      if (result) {
        if (r.health != "healthy")
          spdlog::info("deployment={} service={} replica={} healthy", dep, svc, index);
        r.health = "healthy";
        r.failures = 0;
      } else {
        ++metrics_.health_failures;
        ++r.failures;
        r.last_error = "health check: " + result.error().message;
        if (r.failures >= static_cast<int>(std::max(1u, s->spec.health->retries))) r.health = "unhealthy";
      }
      publish_health(id, r);
      // Only healthy replicas answer to the service's name. (Rare transitions: done under the
      // lock, so that two never pass each other. Unhealthy also after "starting": a daemon
      // started again does not know what it published before.)
      if (r.health != was && r.health != "starting") publish_service_names(id, r.health == "healthy");
      woken_ = true;
    }
    cv_.notify_all();
  });
}

void ServiceManager::reconcile_replicas(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine) {
  int64_t desired = desired_replicas(s);
  const auto& policy = s.policy;
  std::map<int64_t, std::vector<const ContainerInfo*>> current, old;
  for (const auto* c : mine) {
    int64_t idx = replica_of(*c);
    if (idx < 0 || idx >= desired) {
      if (!busy(c->id)) discard_container(*c);  // scaled down (or not ours to keep)
      continue;
    }
    (label(*c, kHashLabel) == s.hash ? current : old)[idx].push_back(c);
  }
  int64_t running = 0, healthy = 0;
  bool crash_loop = false, rolling = false, failed = false;
  std::vector<const ContainerInfo*> up;
  for (int64_t idx = 0; idx < desired; ++idx) {
    auto& r = slot(s, idx);
    auto& cur = current[idx];
    // Two current containers for one slot cannot come from us (names are fixed); keep the first.
    for (size_t i = 1; i < cur.size(); ++i)
      if (!busy(cur[i]->id)) discard_container(*cur[i]);
    const ContainerInfo* c = cur.empty() ? nullptr : cur.front();
    if (!c) {
      // Rolling update: one slot in transition at a time; a fresh slot starts at once.
      if (!old[idx].empty() && rolling) continue;
      if (!old[idx].empty()) rolling = true;
      if (r.restart_at && Clock::now() < *r.restart_at) continue;
      create_replica(d, s, idx, std::to_string(idx));
      continue;
    }
    if (busy(c->id)) {
      if (!old[idx].empty()) rolling = true;
      continue;
    }
    // Created but never started (also one a killed daemon left halfway): start it, no restart.
    if (c->status == ContainerStatus::created ||
        (c->status == ContainerStatus::exited && c->started_at == 0)) {
      create_replica(d, s, idx, std::to_string(idx));  // started by the slot's task
      continue;
    }
    if (is_up(*c)) {
      ++running;
      up.push_back(c);
      check_health(s, *c);
      // Unhealthy: restarted, unless the policy says never (then it stays, shown unhealthy).
      if (r.health == "unhealthy" && r.container_id == c->id && policy.kind != RestartKind::no) {
        r.restart_at.reset();
        r.backoff.on_failure(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - r.started));
        restart_container(d, s, idx, *c, r.last_error.empty() ? "unhealthy" : r.last_error);
        continue;
      }
      if (s.restart_pending.count(c->id)) {
        if (rolling) continue;
        rolling = true;
        s.restart_pending.erase(c->id);
        restart_container(d, s, idx, *c, "restart requested");
        continue;
      }
      if (is_healthy(s, *c)) {
        ++healthy;
        // The new container of a rolling update is healthy: the old one may go.
        for (const auto* o : old[idx])
          if (!busy(o->id)) discard_container(*o);
      } else if (!old[idx].empty()) {
        rolling = true;
      }
      continue;
    }
    // Exited.
    s.restart_pending.erase(c->id);
    bool wants = policy.kind == RestartKind::always || policy.kind == RestartKind::unless_stopped ||
                 (policy.kind == RestartKind::on_failure && (!c->exit || c->exit->exit_code != 0));
    std::string why = exit_text(*c);
    if (!wants) {
      r.last_error = why;
      continue;
    }
    if (policy.max_attempts && r.backoff.attempts() >= static_cast<int>(*policy.max_attempts)) {
      failed = true;
      r.last_error = fmt::format("{}; gave up after {} restart(s)", why, r.backoff.attempts());
      continue;
    }
    if (!r.restart_at) {
      r.restart_at = Clock::now() + r.backoff.on_failure(ran_for(*c));
      r.last_error = why;
    }
    if (r.backoff.crash_loop()) crash_loop = true;
    if (Clock::now() >= *r.restart_at) {
      r.restart_at.reset();
      restart_container(d, s, idx, *c, why);
    }
  }
  autoscale(d, s, up);
  if (failed)
    s.phase = "failed", s.message = "a replica exhausted its restart attempts";
  else if (crash_loop)
    s.phase = "CrashLoopBackOff", s.message = "replicas keep failing; restarting with backoff";
  else if (running < desired || (s.spec.health && healthy < desired))
    s.phase = "degraded", s.message = rolling ? "rolling update" : "";
  else
    s.phase = "running", s.message.clear();
}

void ServiceManager::autoscale(Deployment& d, Service& s, const std::vector<const ContainerInfo*>& running) {
  const auto& sc = s.spec.scale;
  if (sc.mode != ScaleMode::adaptive || s.scale_override) return;
  auto now = Clock::now();
  auto cooldown = std::max<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(sc.cooldown), 5s);
  if (now - s.last_scaled < cooldown) return;
  double cpu_sum = 0, mem_sum = 0;
  int cpu_n = 0, mem_n = 0;
  for (const auto* c : running) {
    auto st = runtime_.container_stats(c->id);
    if (!st) continue;
    auto& r = s.replicas[replica_of(*c)];
    uint64_t usec = st->cgroup.cpu_usage_usec;
    if (r.cpu_at != Clock::time_point{} && usec >= r.cpu_usec) {
      double wall = std::chrono::duration<double, std::micro>(now - r.cpu_at).count();
      double cores = s.spec.resources.cpu.value_or(1.0);
      if (wall > 0) cpu_sum += 100.0 * static_cast<double>(usec - r.cpu_usec) / wall / cores, ++cpu_n;
    }
    r.cpu_usec = usec;
    r.cpu_at = now;
    if (s.spec.resources.memory && st->cgroup.memory_limit_bytes > 0)
      mem_sum += 100.0 * static_cast<double>(st->cgroup.memory_usage_bytes) /
                 static_cast<double>(st->cgroup.memory_limit_bytes),
          ++mem_n;
  }
  bool up = false, down = true;
  if (sc.targets.cpu && cpu_n) {
    double avg = cpu_sum / cpu_n;
    up |= avg > *sc.targets.cpu;
    down &= avg < *sc.targets.cpu / 2.0;
  }
  if (sc.targets.memory && mem_n) {
    double avg = mem_sum / mem_n;
    up |= avg > *sc.targets.memory;
    down &= avg < *sc.targets.memory / 2.0;
  }
  if (!cpu_n && !mem_n) return;
  int64_t before = s.adaptive;
  if (up && s.adaptive < static_cast<int64_t>(sc.max))
    ++s.adaptive;
  else if (!up && down && s.adaptive > static_cast<int64_t>(sc.min))
    --s.adaptive;
  if (s.adaptive != before) {
    s.last_scaled = now;
    spdlog::info("deployment={} service={}: adaptive scale {} -> {}", d.record.name, s.name, before,
                 s.adaptive);
  }
}

void ServiceManager::reconcile_job(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine) {
  int64_t desired = desired_replicas(s);
  const auto& policy = s.policy;
  int64_t done = 0, failed = 0, active = 0;
  std::map<int64_t, const ContainerInfo*> current;
  for (const auto* c : mine) {
    int64_t idx = replica_of(*c);
    if (label(*c, kHashLabel) != s.hash || idx < 0 || idx >= desired) {
      if (!busy(c->id)) discard_container(*c);
      continue;
    }
    current[idx] = c;
  }
  int last_code = 0;
  for (int64_t idx = 0; idx < desired; ++idx) {
    auto& r = slot(s, idx);
    auto it = current.find(idx);
    if (it == current.end()) {
      create_replica(d, s, idx, std::to_string(idx));
      ++active;
      continue;
    }
    const ContainerInfo& c = *it->second;
    if (!busy(c.id) && c.status == ContainerStatus::exited && c.started_at == 0) {  // never ran
      create_replica(d, s, idx, std::to_string(idx));
      ++active;
      continue;
    }
    if (busy(c.id) || c.status != ContainerStatus::exited) {
      if (c.status == ContainerStatus::created && !busy(c.id)) create_replica(d, s, idx, std::to_string(idx));
      ++active;
      continue;
    }
    int code = c.exit ? c.exit->exit_code : -1;
    if (code == 0) {
      ++done;
      continue;
    }
    bool retry = policy.kind == RestartKind::on_failure || policy.kind == RestartKind::always;
    if (retry && (!policy.max_attempts || r.backoff.attempts() < static_cast<int>(*policy.max_attempts))) {
      if (!r.restart_at) r.restart_at = Clock::now() + r.backoff.on_failure(ran_for(c));
      if (Clock::now() >= *r.restart_at) {
        r.restart_at.reset();
        restart_container(d, s, idx, c, exit_text(c));
      }
      ++active;
      continue;
    }
    ++failed;
    last_code = code;
    r.last_error = exit_text(c);
  }
  if (failed)
    s.phase = "failed",
    s.message = fmt::format("{} of {} run(s) failed (last exit code {})", failed, desired, last_code);
  else if (done == desired)
    s.phase = "completed", s.message = fmt::format("{} run(s) exited 0", done);
  else
    s.phase = "running", s.message = fmt::format("{} of {} run(s) done", done, desired);
}

void ServiceManager::reconcile_cron(Deployment& d, Service& s, std::vector<const ContainerInfo*>& mine) {
  auto now = std::chrono::system_clock::now();
  if (!s.next_run) {
    auto next = s.spec.schedule->next_after(now);
    if (!next) {
      s.phase = "failed";
      s.message = "the schedule never fires";
      return;
    }
    s.next_run = std::chrono::system_clock::time_point(*next);
  }
  // Runs are named by their start time; keep the last three finished ones for their logs.
  std::vector<const ContainerInfo*> finished;
  bool active = false;
  for (const auto* c : mine) {
    if (label(*c, kHashLabel) != s.hash) {
      if (!busy(c->id) && !is_up(*c)) discard_container(*c);
      continue;
    }
    if (is_up(*c) || c->status == ContainerStatus::created || busy(c->id))
      active = true;
    else
      finished.push_back(c);
  }
  std::sort(finished.begin(), finished.end(), [](auto* a, auto* b) { return a->created_at > b->created_at; });
  for (size_t i = 3; i < finished.size(); ++i)
    if (!busy(finished[i]->id)) discard_container(*finished[i]);
  if (!finished.empty()) {
    const auto* last = finished.front();
    s.message = fmt::format("last run {}", exit_text(*last));
  }
  s.phase = active ? "running" : "scheduled";
  if (now < *s.next_run) return;
  if (active) {
    spdlog::warn("deployment={} service={}: previous run still active; skipping this one", d.record.name,
                 s.name);
  } else {
    int64_t stamp = std::chrono::duration_cast<std::chrono::seconds>(s.next_run->time_since_epoch()).count();
    create_replica(d, s, stamp, "run-" + std::to_string(stamp));
  }
  auto next = s.spec.schedule->next_after(now);
  s.next_run = next ? std::optional<std::chrono::system_clock::time_point>(*next) : std::nullopt;
}

// ---- requests ----

Status ServiceManager::remove(const std::string& deployment) {
  ZL_TRY_ASSIGN(auto all, runtime_.list_containers());
  ZL_TRY_ASSIGN(bool existed, db_.delete_deployment(deployment));
  ZL_FAILPOINT("agent.remove.after-db");
  std::vector<ContainerInfo> victims;
  std::map<std::string, std::optional<spec::LifecycleHook>> hooks;
  {
    std::lock_guard lock(mu_);
    for (auto& c : all) {
      if (label(c, kDeploymentLabel) != deployment) continue;
      if (is_up(c)) hooks[c.id] = pre_stop_of(c);
      busy_.insert(c.id);  // the loop keeps its hands off while we stop them
      victims.push_back(c);
    }
    existed |= deployments_.erase(deployment) > 0;
  }
  if (!existed) {
    std::lock_guard lock(mu_);
    for (const auto& c : victims) busy_.erase(c.id);
    return not_found("no deployment named {}", deployment);
  }
  // Stop them all at once (each honours its grace period), then remove.
  std::vector<std::thread> workers;
  for (const auto& c : victims)
    workers.emplace_back([this, id = c.id, pre_stop = hooks[c.id]] {
      if (pre_stop) run_hook(id, pre_stop, "pre_stop");
      (void)runtime_.stop_container(id);
      (void)runtime_.remove_container(id, true);
    });
  for (auto& t : workers) t.join();
  {
    std::lock_guard lock(mu_);
    for (const auto& c : victims) busy_.erase(c.id);
  }
  spdlog::info("deployment={} removed ({} container(s))", deployment, victims.size());
  return {};
}

Status ServiceManager::scale(const std::string& deployment, const std::string& service, int64_t replicas) {
  if (replicas < 0 || replicas > 1000)
    return invalid_argument("replicas must be between 0 and 1000, got {}", replicas);
  {
    std::lock_guard lock(mu_);
    auto it = deployments_.find(deployment);
    if (it == deployments_.end()) return not_found("no deployment named {}", deployment);
    Service* s = it->second->find(service);
    if (!s) return not_found("deployment {} has no service {}", deployment, service);
    if (s->spec.rtype == ResourceType::cron)
      return invalid_argument("service {} is a cron job; it has no replicas to scale", service);
    ZL_TRY(db_.set_scale(deployment, service, replicas));
    ZL_FAILPOINT("agent.scale.after-db");
    s->scale_override = replicas;
  }
  wake();
  return {};
}

Status ServiceManager::restart(const std::string& deployment, const std::string& service) {
  {
    std::lock_guard lock(mu_);
    auto it = deployments_.find(deployment);
    if (it == deployments_.end()) return not_found("no deployment named {}", deployment);
    Service* s = it->second->find(service);
    if (!s) return not_found("deployment {} has no service {}", deployment, service);
    for (const auto& c : last_seen_)
      if (label(c, kDeploymentLabel) == deployment && label(c, kServiceLabel) == service && is_up(c))
        s->restart_pending.insert(c.id);
  }
  wake();
  return {};
}

Result<std::pair<std::string, std::string>> ServiceManager::find_service(const std::string& ref) {
  std::lock_guard lock(mu_);
  if (auto slash = ref.find('/'); slash != std::string::npos) {
    std::string dep = ref.substr(0, slash), svc = ref.substr(slash + 1);
    auto it = deployments_.find(dep);
    if (it == deployments_.end()) return not_found("no deployment named {}", dep);
    if (!it->second->find(svc)) return not_found("deployment {} has no service {}", dep, svc);
    return std::pair{dep, svc};
  }
  std::vector<std::string> found;
  for (auto& [name, d] : deployments_)
    if (d->find(ref)) found.push_back(name);
  if (found.empty()) return not_found("no service named {} in any deployment", ref);
  if (found.size() > 1)
    return invalid_argument("service name {} is in several deployments ({}, {}): write DEPLOYMENT/{}", ref,
                            found[0], found[1], ref);
  return std::pair{found[0], ref};
}

Result<std::vector<ContainerInfo>> ServiceManager::service_containers(const std::string& deployment,
                                                                      const std::string& service) {
  ZL_TRY_ASSIGN(auto all, runtime_.list_containers());
  std::vector<ContainerInfo> out;
  for (auto& c : all)
    if (label(c, kDeploymentLabel) == deployment && label(c, kServiceLabel) == service)
      out.push_back(std::move(c));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(replica_of(a), a.created_at) < std::pair(replica_of(b), b.created_at);
  });
  return out;
}

AgentMetrics ServiceManager::metrics() {
  std::lock_guard lock(mu_);
  return metrics_;
}

// ---- status ----

json ServiceManager::service_status(const Deployment& d, const Service& s) {
  int64_t running = 0, healthy = 0, restarts = 0;
  std::string last_error;
  json containers = json::array();
  for (const auto& c : last_seen_) {
    if (label(c, kDeploymentLabel) != d.record.name || label(c, kServiceLabel) != s.name) continue;
    int64_t idx = replica_of(c);
    auto rit = s.replicas.find(idx);
    const Replica* r = rit == s.replicas.end() ? nullptr : &rit->second;
    bool current = label(c, kHashLabel) == s.hash;
    bool ok = is_healthy(s, c);
    if (current && is_up(c)) ++running;
    if (current && ok) ++healthy;
    json cj = {{"id", c.id},
               {"name", c.name},
               {"replica", idx},
               {"status", std::string(to_string(c.status))},
               {"current", current},
               {"health", !s.spec.health ? "none" : (r && r->container_id == c.id ? r->health : "starting")},
               {"pid", c.pid},
               {"started_at", c.started_at},
               {"finished_at", c.finished_at}};
    if (c.exit) cj["exit_code"] = c.exit->exit_code;
    containers.push_back(std::move(cj));
  }
  for (const auto& [idx, r] : s.replicas) {
    restarts += r.restarts;
    if (!r.last_error.empty()) last_error = r.last_error;
  }
  json out = {{"name", s.name},
              {"rtype", std::string(to_string(s.spec.rtype))},
              {"image", s.spec.image.name},
              {"spec_hash", s.hash},
              {"phase", s.phase},
              {"message", s.message},
              {"replicas", {{"desired", desired_replicas(s)}, {"running", running}, {"healthy", healthy}}},
              {"restarts", restarts},
              {"last_error", last_error},
              {"containers", containers}};
  if (s.next_run)
    out["next_run"] =
        std::chrono::duration_cast<std::chrono::seconds>(s.next_run->time_since_epoch()).count();
  return out;
}

json ServiceManager::deployment_status(const Deployment& d) {
  json services = json::array();
  for (const auto& s : d.services) services.push_back(service_status(d, *s));
  return {{"name", d.record.name},
          {"file", d.record.file_name},
          {"generation", d.record.generation},
          {"created_at", d.record.created_at},
          {"updated_at", d.record.updated_at},
          {"services", services}};
}

Result<json> ServiceManager::status(const std::string& deployment) {
  std::lock_guard lock(mu_);
  auto it = deployments_.find(deployment);
  if (it == deployments_.end()) return not_found("no deployment named {}", deployment);
  return deployment_status(*it->second);
}

json ServiceManager::status_all() {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [name, d] : deployments_) out.push_back(deployment_status(*d));
  return out;
}

}  // namespace zl
