// Enum spellings, lookups, $E: resolution, and the canonical JSON form of a spec and its hash.
#include "spec/deployment_spec.h"

#include "common/digest.h"
#include "spec/quantity.h"

namespace zl::spec {

using json = nlohmann::json;

std::string_view to_string(ResourceType v) {
  switch (v) {
    case ResourceType::service:
      return "service";
    case ResourceType::job:
      return "job";
    case ResourceType::cron:
      return "cron";
  }
  return "?";
}

std::string_view to_string(Protocol v) {
  switch (v) {
    case Protocol::tcp:
      return "tcp";
    case Protocol::udp:
      return "udp";
    case Protocol::http:
      return "http";
    case Protocol::https:
      return "https";
    case Protocol::websocket:
      return "websocket";
  }
  return "?";
}

std::string_view to_string(Expose v) {
  return v == Expose::public_ ? "public" : "internal";
}

std::string_view to_string(ScaleMode v) {
  switch (v) {
    case ScaleMode::adaptive:
      return "adaptive";
    case ScaleMode::fixed:
      return "fixed";
    case ScaleMode::manual:
      return "manual";
  }
  return "?";
}

std::string_view to_string(DependencyCondition v) {
  switch (v) {
    case DependencyCondition::started:
      return "started";
    case DependencyCondition::healthy:
      return "healthy";
    case DependencyCondition::ready:
      return "ready";
  }
  return "?";
}

std::string_view to_string(TimeoutAction v) {
  switch (v) {
    case TimeoutAction::fail:
      return "fail";
    case TimeoutAction::warn:
      return "warn";
    case TimeoutAction::continue_:
      return "continue";
  }
  return "?";
}

std::string_view to_string(HealthCheckType v) {
  switch (v) {
    case HealthCheckType::tcp:
      return "tcp";
    case HealthCheckType::http:
      return "http";
    case HealthCheckType::command:
      return "command";
  }
  return "?";
}

std::string_view to_string(RestartKind v) {
  switch (v) {
    case RestartKind::no:
      return "no";
    case RestartKind::on_failure:
      return "on_failure";
    case RestartKind::always:
      return "always";
    case RestartKind::unless_stopped:
      return "unless_stopped";
  }
  return "?";
}

std::string_view to_string(Isolation v) {
  return v == Isolation::vm ? "vm" : "process";
}

std::string_view to_string(StorageType v) {
  switch (v) {
    case StorageType::bind:
      return "bind";
    case StorageType::named:
      return "named";
    case StorageType::tmpfs:
      return "tmpfs";
  }
  return "?";
}

const ServiceSpec* DeploymentSpec::find_service(std::string_view name) const {
  for (const auto& s : services)
    if (s.name == name) return &s;
  return nullptr;
}

ServiceSpec* DeploymentSpec::find_service(std::string_view name) {
  return const_cast<ServiceSpec*>(std::as_const(*this).find_service(name));
}

namespace {

// As the spec spells it (the puller also knows "newer", which a spec does not take).
std::string_view pull_policy_name(PullPolicy p) {
  switch (p) {
    case PullPolicy::always:
      return "always";
    case PullPolicy::never:
      return "never";
    case PullPolicy::newer:
      return "newer";
    case PullPolicy::if_not_present:
      return "if_not_present";
  }
  return "?";
}

json limit_json(uint64_t v) {
  return v == UlimitSpec::kUnlimited ? json("unlimited") : json(v);
}

json hook_json(const LifecycleHook& h) {
  return json{{"command", h.command}};
}

}  // namespace

json to_json(const ServiceSpec& s) {
  json j = json::object();
  j["rtype"] = to_string(s.rtype);
  if (s.schedule) j["schedule"] = s.schedule->expression();
  j["image"] = {{"name", s.image.name}, {"pull_policy", pull_policy_name(s.image.pull_policy)}};

  json res = json::object();
  if (s.resources.cpu) res["cpu"] = *s.resources.cpu;
  if (s.resources.memory) res["memory"] = format_memory_size(*s.resources.memory);
  if (s.resources.pids_limit) res["pids_limit"] = *s.resources.pids_limit;
  if (!res.empty()) j["resources"] = res;

  if (!s.env.empty()) {
    json env = json::object();
    for (const auto& [k, v] : s.env) env[k] = v.host_var ? "$E:" + *v.host_var : v.value;
    j["env"] = env;
  }

  json cmd = json::object();
  if (s.command.entrypoint) cmd["entrypoint"] = *s.command.entrypoint;
  if (s.command.args) cmd["args"] = *s.command.args;
  if (s.command.workdir) cmd["workdir"] = *s.command.workdir;
  if (!cmd.empty()) j["command"] = cmd;

  if (!s.endpoints.empty()) {
    json eps = json::array();
    for (const auto& e : s.endpoints) {
      json ej = {{"name", e.name},
                 {"protocol", to_string(e.protocol)},
                 {"port", e.port},
                 {"target_port", e.target_port},
                 {"expose", to_string(e.expose)}};
      if (e.path) ej["path"] = *e.path;
      eps.push_back(ej);
    }
    j["endpoints"] = eps;
  }

  json scale = {{"mode", to_string(s.scale.mode)}};
  if (s.scale.mode == ScaleMode::fixed) scale["replicas"] = s.scale.replicas;
  if (s.scale.mode == ScaleMode::adaptive) {
    scale["min"] = s.scale.min;
    scale["max"] = s.scale.max;
    scale["cooldown"] = format_duration(s.scale.cooldown);
    json t = json::object();
    if (s.scale.targets.cpu) t["cpu"] = *s.scale.targets.cpu;
    if (s.scale.targets.memory) t["memory"] = *s.scale.targets.memory;
    if (s.scale.targets.rps) t["rps"] = *s.scale.targets.rps;
    if (!t.empty()) scale["targets"] = t;
  }
  j["scale"] = scale;

  if (!s.depends.empty()) {
    json deps = json::array();
    for (const auto& d : s.depends)
      deps.push_back({{"service", d.service},
                      {"condition", to_string(d.condition)},
                      {"timeout", format_duration(d.timeout)},
                      {"on_timeout", to_string(d.on_timeout)}});
    j["depends"] = deps;
  }

  if (s.health) {
    const HealthSpec& h = *s.health;
    json check = {{"type", to_string(h.check.type)}};
    switch (h.check.type) {
      case HealthCheckType::tcp:
        check["port"] = h.check.port;
        break;
      case HealthCheckType::http:
        check["url"] = h.check.url;
        check["expect_status"] = h.check.expect_status;
        break;
      case HealthCheckType::command:
        check["command"] = h.check.command;
        break;
    }
    j["health"] = {{"start_grace", format_duration(h.start_grace)},
                   {"interval", format_duration(h.interval)},
                   {"timeout", format_duration(h.timeout)},
                   {"retries", h.retries},
                   {"check", check}};
  }

  if (s.restart_policy) {
    json r = {{"kind", to_string(s.restart_policy->kind)}};
    if (s.restart_policy->max_attempts) r["max_attempts"] = *s.restart_policy->max_attempts;
    if (s.restart_policy->delay) r["delay"] = format_duration(*s.restart_policy->delay);
    j["restart_policy"] = r;
  }

  if (!s.storage.empty()) {
    json st = json::array();
    for (const auto& m : s.storage) {
      json mj = {{"type", to_string(m.type)}, {"target", m.target}};
      if (m.type == StorageType::bind) mj["source"] = m.source;
      if (m.type == StorageType::named) mj["name"] = m.source;
      if (m.type != StorageType::tmpfs) mj["readonly"] = m.readonly;
      if (m.size) mj["size"] = format_memory_size(*m.size);
      if (m.mode) mj["mode"] = fmt::format("{:o}", *m.mode);
      st.push_back(mj);
    }
    j["storage"] = st;
  }

  if (!s.capabilities.empty()) j["capabilities"] = s.capabilities;
  if (!s.cap_drop.empty()) j["cap_drop"] = s.cap_drop;
  j["privileged"] = s.privileged;
  j["read_only_root_fs"] = s.read_only_root_fs;
  if (s.hostname) j["hostname"] = *s.hostname;
  if (!s.labels.empty()) j["labels"] = s.labels;
  if (s.user) j["user"] = *s.user;
  if (s.stop_signal) j["stop_signal"] = *s.stop_signal;
  if (s.stop_grace_period) j["stop_grace_period"] = format_duration(*s.stop_grace_period);
  if (!s.sysctls.empty()) j["sysctls"] = s.sysctls;

  if (!s.ulimits.empty()) {
    json u = json::object();
    for (const auto& [name, l] : s.ulimits)
      u[name] = {{"soft", limit_json(l.soft)}, {"hard", limit_json(l.hard)}};
    j["ulimits"] = u;
  }

  if (!s.devices.empty()) {
    json devs = json::array();
    for (const auto& d : s.devices)
      devs.push_back({{"path", d.path}, {"read", d.read}, {"write", d.write}, {"mknod", d.mknod}});
    j["devices"] = devs;
  }

  j["isolation"] = to_string(s.isolation);

  json lc = json::object();
  if (s.lifecycle.post_start) lc["post_start"] = hook_json(*s.lifecycle.post_start);
  if (s.lifecycle.pre_stop) lc["pre_stop"] = hook_json(*s.lifecycle.pre_stop);
  if (!lc.empty()) j["lifecycle"] = lc;
  return j;
}

json to_json(const DeploymentSpec& d) {
  json services = json::object();
  for (const auto& s : d.services) services[s.name] = to_json(s);
  return {{"version", d.version}, {"deployment", d.deployment}, {"services", services}};
}

std::string spec_hash(const ServiceSpec& s) {
  json j = to_json(s);
  j.erase("scale");
  // What the containers get from "$E:" references, so a changed value makes a new hash. Only
  // the hash is ever shown.
  json resolved = json::object();
  for (const auto& [k, v] : s.env)
    if (v.host_var && v.resolved) resolved[k] = v.value;
  if (!resolved.empty()) j["env_resolved"] = resolved;
  return std::string(sha256_of(j.dump()).hex());
}

Status resolve_env(DeploymentSpec& d, const EnvLookup& lookup) {
  // Look everything up first: the spec changes only when every reference is found.
  std::vector<std::pair<EnvValue*, std::string>> found;
  for (auto& s : d.services) {
    for (auto& [name, v] : s.env) {
      if (!v.host_var) continue;
      std::optional<std::string> value = lookup(*v.host_var);
      if (!value) {
        std::string where = d.source.empty() ? "" : d.source + ": ";
        return invalid_argument("{}services.{}.env.{}: $E:{} is not set in zlayer's environment", where,
                                s.name, name, *v.host_var);
      }
      found.emplace_back(&v, std::move(*value));
    }
  }
  for (auto& [v, value] : found) {
    v->value = std::move(value);
    v->resolved = true;
  }
  return {};
}

}  // namespace zl::spec
