#include "runtime/container_json.h"

#include "common/time_format.h"

namespace zl {

using json = nlohmann::json;

namespace {

json mount_to_json(const Mount& m) {
  static constexpr const char* types[] = {"bind", "volume", "tmpfs"};
  return {{"type", types[static_cast<int>(m.type)]},
          {"source", m.source},
          {"target", m.target},
          {"read_only", m.read_only},
          {"options", m.options}};
}

Result<Mount> mount_from_json(const json& j) {
  Mount m;
  std::string type = j.at("type").get<std::string>();
  if (type == "bind")
    m.type = Mount::Type::bind;
  else if (type == "volume")
    m.type = Mount::Type::volume;
  else if (type == "tmpfs")
    m.type = Mount::Type::tmpfs;
  else
    return invalid_argument("unknown mount type \"{}\"", type);
  m.source = j.value("source", "");
  m.target = j.at("target").get<std::string>();
  m.read_only = j.value("read_only", false);
  m.options = j.value("options", std::vector<std::string>{});
  return m;
}

template <class T>
void put_opt(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <class T>
void get_opt(const json& j, const char* key, std::optional<T>& v) {
  if (auto it = j.find(key); it != j.end() && !it->is_null()) v = it->get<T>();
}

}  // namespace

json to_json(const ContainerSpec& s) {
  json j = {{"name", s.name},
            {"image", s.image},
            {"cmd", s.cmd},
            {"env", s.env},
            {"workdir", s.workdir},
            {"user", s.user},
            {"tty", s.tty},
            {"open_stdin", s.open_stdin},
            {"hostname", s.hostname},
            {"stop_signal", s.stop_signal},
            {"cap_add", s.cap_add},
            {"cap_drop", s.cap_drop},
            {"privileged", s.privileged},
            {"read_only_rootfs", s.read_only_rootfs},
            {"no_new_privileges", s.no_new_privileges},
            {"seccomp_profile", s.seccomp_profile},
            {"sysctls", s.sysctls},
            {"labels", s.labels},
            {"auto_remove", s.auto_remove}};
  put_opt(j, "entrypoint", s.entrypoint);
  put_opt(j, "stop_timeout", s.stop_timeout);
  json r = json::object();
  put_opt(r, "cpus", s.resources.cpus);
  put_opt(r, "cpu_shares", s.resources.cpu_shares);
  put_opt(r, "cpuset_cpus", s.resources.cpuset_cpus);
  put_opt(r, "memory", s.resources.memory);
  put_opt(r, "memory_swap", s.resources.memory_swap);
  put_opt(r, "pids_limit", s.resources.pids_limit);
  j["resources"] = r;
  j["ulimits"] = json::array();
  for (const auto& u : s.ulimits)
    j["ulimits"].push_back({{"name", u.name}, {"soft", u.soft}, {"hard", u.hard}});
  j["devices"] = json::array();
  for (const auto& d : s.devices)
    j["devices"].push_back(
        {{"host_path", d.host_path}, {"container_path", d.container_path}, {"permissions", d.permissions}});
  j["mounts"] = json::array();
  for (const auto& m : s.mounts) j["mounts"].push_back(mount_to_json(m));
  j["network_mode"] = s.network_mode;
  j["networks"] = s.networks;
  j["network_aliases"] = s.network_aliases;
  if (!s.ipc_mode.empty()) j["ipc_mode"] = s.ipc_mode;
  if (!s.pid_mode.empty()) j["pid_mode"] = s.pid_mode;
  j["ports"] = json::array();
  for (const auto& p : s.ports)
    j["ports"].push_back({{"host_ip", p.host_ip},
                          {"host_port", p.host_port},
                          {"container_port", p.container_port},
                          {"protocol", p.protocol}});
  return j;
}

Result<ContainerSpec> container_spec_from_json(const json& j) {
  try {
    ContainerSpec s;
    s.name = j.value("name", "");
    s.image = j.value("image", "");
    get_opt(j, "entrypoint", s.entrypoint);
    s.cmd = j.value("cmd", std::vector<std::string>{});
    s.env = j.value("env", std::vector<std::string>{});
    s.workdir = j.value("workdir", "");
    s.user = j.value("user", "");
    s.tty = j.value("tty", false);
    s.open_stdin = j.value("open_stdin", false);
    s.hostname = j.value("hostname", "");
    s.stop_signal = j.value("stop_signal", "");
    get_opt(j, "stop_timeout", s.stop_timeout);
    if (auto r = j.find("resources"); r != j.end()) {
      get_opt(*r, "cpus", s.resources.cpus);
      get_opt(*r, "cpu_shares", s.resources.cpu_shares);
      get_opt(*r, "cpuset_cpus", s.resources.cpuset_cpus);
      get_opt(*r, "memory", s.resources.memory);
      get_opt(*r, "memory_swap", s.resources.memory_swap);
      get_opt(*r, "pids_limit", s.resources.pids_limit);
    }
    s.cap_add = j.value("cap_add", std::vector<std::string>{});
    s.cap_drop = j.value("cap_drop", std::vector<std::string>{});
    s.privileged = j.value("privileged", false);
    s.read_only_rootfs = j.value("read_only_rootfs", false);
    s.no_new_privileges = j.value("no_new_privileges", false);
    s.seccomp_profile = j.value("seccomp_profile", "");
    s.sysctls = j.value("sysctls", std::map<std::string, std::string>{});
    s.labels = j.value("labels", std::map<std::string, std::string>{});
    s.auto_remove = j.value("auto_remove", false);
    for (const auto& u : j.value("ulimits", json::array()))
      s.ulimits.push_back(
          {u.at("name").get<std::string>(), u.at("soft").get<uint64_t>(), u.at("hard").get<uint64_t>()});
    for (const auto& d : j.value("devices", json::array()))
      s.devices.push_back({d.at("host_path").get<std::string>(), d.value("container_path", ""),
                           d.value("permissions", "rwm")});
    for (const auto& m : j.value("mounts", json::array())) {
      ZL_TRY_ASSIGN(auto mount, mount_from_json(m));
      s.mounts.push_back(std::move(mount));
    }
    s.network_mode = j.value("network_mode", "");
    s.networks = j.value("networks", std::vector<std::string>{});
    s.network_aliases = j.value("network_aliases", std::vector<std::string>{});
    s.ipc_mode = j.value("ipc_mode", "");
    s.pid_mode = j.value("pid_mode", "");
    for (const auto& p : j.value("ports", json::array()))
      s.ports.push_back({p.value("host_ip", ""), p.at("host_port").get<uint16_t>(),
                         p.at("container_port").get<uint16_t>(), p.value("protocol", "tcp")});
    return s;
  } catch (const json::exception& e) {
    return invalid_argument("container spec: {}", e.what());
  }
}

std::string_view to_string(ExitInfo::Reason r) {
  switch (r) {
    case ExitInfo::Reason::exited:
      return "exited";
    case ExitInfo::Reason::signal:
      return "signal";
    case ExitInfo::Reason::oom_killed:
      return "oom_killed";
    case ExitInfo::Reason::runtime_error:
      return "runtime_error";
  }
  return "unknown";
}

json to_json(const ExitInfo& e) {
  return {{"exit_code", e.exit_code},
          {"reason", to_string(e.reason)},
          {"signal", e.signal},
          {"finished_at", e.finished_at_unix_nano},
          {"message", e.message}};
}

Result<ExitInfo> exit_info_from_json(const json& j) {
  try {
    ExitInfo e;
    e.exit_code = j.at("exit_code").get<int>();
    std::string reason = j.at("reason").get<std::string>();
    if (reason == "exited")
      e.reason = ExitInfo::Reason::exited;
    else if (reason == "signal")
      e.reason = ExitInfo::Reason::signal;
    else if (reason == "oom_killed")
      e.reason = ExitInfo::Reason::oom_killed;
    else if (reason == "runtime_error")
      e.reason = ExitInfo::Reason::runtime_error;
    else
      return invalid_argument("unknown exit reason \"{}\"", reason);
    e.signal = j.value("signal", 0);
    e.finished_at_unix_nano = j.value("finished_at", int64_t{0});
    e.message = j.value("message", "");
    return e;
  } catch (const json::exception& ex) {
    return invalid_argument("exit info: {}", ex.what());
  }
}

json to_json(const ContainerHealth& h) {
  json log = json::array();
  for (const auto& p : h.log)
    log.push_back({{"start", p.start_unix_nano},
                   {"end", p.end_unix_nano},
                   {"exit_code", p.exit_code},
                   {"output", p.output}});
  return {{"status", h.status}, {"failing_streak", h.failing_streak}, {"log", log}};
}

Result<ContainerHealth> container_health_from_json(const json& j) {
  try {
    ContainerHealth h;
    h.status = j.at("status").get<std::string>();
    if (h.status != "starting" && h.status != "healthy" && h.status != "unhealthy")
      return invalid_argument("unknown health status \"{}\"", h.status);
    h.failing_streak = j.at("failing_streak").get<int>();
    for (const auto& p : j.at("log"))
      h.log.push_back({.start_unix_nano = p.at("start").get<int64_t>(),
                       .end_unix_nano = p.at("end").get<int64_t>(),
                       .exit_code = p.at("exit_code").get<int>(),
                       .output = p.at("output").get<std::string>()});
    return h;
  } catch (const json::exception& ex) {
    return invalid_argument("health: {}", ex.what());
  }
}

json docker_health_json(const ContainerHealth& h) {
  json log = json::array();
  for (const auto& p : h.log)
    log.push_back({{"Start", rfc3339_nano(p.start_unix_nano)},
                   {"End", rfc3339_nano(p.end_unix_nano)},
                   {"ExitCode", p.exit_code},
                   {"Output", p.output}});
  return {{"Status", h.status}, {"FailingStreak", h.failing_streak}, {"Log", log}};
}

nlohmann::json docker_network_settings(const ContainerInfo& c) {
  nlohmann::json networks = nlohmann::json::object();
  nlohmann::json ports = nlohmann::json::object();
  nlohmann::json out = {{"IPAddress", ""}, {"IPPrefixLen", 0}, {"Gateway", ""}, {"MacAddress", ""}};
  if (c.network) {
    const net::ContainerNetwork& n = *c.network;
    for (const auto& ep : n.endpoints) {
      networks[ep.network] = {{"NetworkID", ep.network_id},    {"IPAddress", ep.address},
                              {"IPPrefixLen", ep.prefix_len},  {"Gateway", ep.gateway},
                              {"MacAddress", ep.mac},          {"Aliases", ep.dns_names},
                              {"EndpointInterface", ep.ifname}};
    }
    if (!n.endpoints.empty()) {
      const auto& primary = n.endpoints.front();
      out["IPAddress"] = primary.address;
      out["IPPrefixLen"] = primary.prefix_len;
      out["Gateway"] = primary.gateway;
      out["MacAddress"] = primary.mac;
    }
    if (n.mode != net::NetworkMode::bridge)
      networks[std::string(to_string(n.mode))] = nlohmann::json::object();
    for (const auto& p : n.ports) {
      auto& bindings = ports[fmt::format("{}/{}", p.container_port, p.protocol)];
      if (bindings.is_null()) bindings = nlohmann::json::array();
      bindings.push_back(
          {{"HostIp", p.host_ip.empty() ? "0.0.0.0" : p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
    }
    out["SandboxKey"] = n.netns;
    out["NetworkMode"] = c.spec.network_mode.empty() ? "bridge" : c.spec.network_mode;
  }
  out["Networks"] = networks;
  out["Ports"] = ports;
  return out;
}

}  // namespace zl
