#include "api/rest_api.h"

#include <spdlog/spdlog.h>

#include "runtime/container_json.h"

#include <mutex>
#include <thread>

namespace zl::api {

using nlohmann::json;

namespace {

void send_json(Responder& res, int status, const json& body) {
  res.send(status, "application/json", json_text(body));
}

void send_error(Responder& res, const Error& e) {
  send_json(res, http_status_for(e.kind), {{"message", e.message}, {"kind", std::string(to_string(e.kind))}});
}

template <class T>
bool ok_or_send(Responder& res, const Result<T>& r) {
  if (r) return true;
  send_error(res, r.error());
  return false;
}

json container_json(const ContainerInfo& c) {
  json j = {{"id", c.id},
            {"name", c.name},
            {"image", c.image},
            {"image_id", c.image_id},
            {"status", std::string(to_string(c.status))},
            {"pid", c.pid},
            {"command", c.command},
            {"labels", c.spec.labels},
            {"created_at", c.created_at},
            {"started_at", c.started_at},
            {"finished_at", c.finished_at}};
  if (c.health) j["health"] = to_json(*c.health);
  if (c.exit) {
    j["exit"] = {{"exit_code", c.exit->exit_code},
                 {"reason", std::string(to_string(c.exit->reason))},
                 {"signal", c.exit->signal},
                 {"finished_at", c.exit->finished_at_unix_nano}};
  }
  return j;
}

Result<int64_t> int_param(const Request& req, std::string_view name) {
  auto v = req.query_param(name);
  if (!v) return -1;
  try {
    size_t used = 0;
    long long n = std::stoll(*v, &used);
    if (used != v->size() || n < 0) throw std::invalid_argument("");
    return n;
  } catch (...) {
    return invalid_argument("query parameter {}: expected a non-negative integer, got \"{}\"", name, *v);
  }
}

// Streams the logs of a service's containers as JSON lines, the replicas' lines interleaved as
// they come (one reader thread per container while following).
void stream_service_logs(RestApiDeps& deps, const std::string& dep, const std::string& svc, Request& req,
                         Responder& res) {
  auto tail = int_param(req, "tail");
  auto since = int_param(req, "since");
  if (!ok_or_send(res, tail) || !ok_or_send(res, since)) return;
  auto containers = deps.agent.service_containers(dep, svc);
  if (!ok_or_send(res, containers)) return;
  bool follow = req.query_flag("follow");
  res.begin_stream(200, "application/x-ndjson");
  std::mutex write_mu;
  std::atomic<bool> gone{false};
  auto read_one = [&](const ContainerInfo& c) {
    LogQuery q;
    if (*tail >= 0) q.tail = static_cast<size_t>(*tail);
    if (*since >= 0) q.since_unix_nano = *since * 1'000'000'000;
    q.follow = follow;
    q.stop = [&] { return gone.load() || res.client_gone(); };
    auto replica = c.spec.labels.count("zlayer.replica") ? c.spec.labels.at("zlayer.replica") : "";
    (void)deps.runtime.container_logs(c.id, q, [&](const LogEntry& e) -> Status {
      json line = {{"container", c.name},
                   {"replica", replica},
                   {"stream", e.stream == LogEntry::Stream::stdout_stream ? "stdout" : "stderr"},
                   {"time", e.time_unix_nano},
                   {"text", e.text}};
      std::lock_guard lock(write_mu);
      if (!res.write(json_text(line) + "\n")) {
        gone = true;
        return unavailable("client gone");
      }
      return {};
    });
  };
  if (!follow) {
    for (const auto& c : *containers) read_one(c);
  } else {
    std::vector<std::thread> readers;
    for (const auto& c : *containers) readers.emplace_back([&, c] { read_one(c); });
    for (auto& t : readers) t.join();
  }
  res.end_stream();
}

std::string metrics_text(RestApiDeps& deps) {
  std::string out;
  std::map<std::string, int> by_state = {
      {"created", 0}, {"running", 0}, {"paused", 0}, {"exited", 0}, {"unknown", 0}};
  if (auto all = deps.runtime.list_containers())
    for (const auto& c : *all) ++by_state[std::string(to_string(c.status))];
  out += "# HELP zlayer_containers Containers on this node by state.\n# TYPE zlayer_containers gauge\n";
  for (const auto& [state, n] : by_state)
    out += fmt::format("zlayer_containers{{state=\"{}\"}} {}\n", state, n);
  auto m = deps.agent.metrics();
  out +=
      "# HELP zlayer_restarts_total Replica restarts made by the agent.\n# TYPE zlayer_restarts_total "
      "counter\n";
  out += fmt::format("zlayer_restarts_total {}\n", m.restarts);
  out += "# HELP zlayer_pulls_total Image pulls started by the agent.\n# TYPE zlayer_pulls_total counter\n";
  out += fmt::format("zlayer_pulls_total {}\n", m.pulls);
  out +=
      "# HELP zlayer_pull_failures_total Image pulls that failed.\n# TYPE zlayer_pull_failures_total "
      "counter\n";
  out += fmt::format("zlayer_pull_failures_total {}\n", m.pull_failures);
  out += "# HELP zlayer_health_check_failures_total Failed health checks.\n";
  out += "# TYPE zlayer_health_check_failures_total counter\n";
  out += fmt::format("zlayer_health_check_failures_total {}\n", m.health_failures);
  auto deployments = deps.agent.status_all();
  out += "# HELP zlayer_service_replicas Replicas of each service: desired, running, healthy.\n";
  out += "# TYPE zlayer_service_replicas gauge\n";
  for (const auto& d : deployments)
    for (const auto& s : d["services"])
      for (const char* kind : {"desired", "running", "healthy"})
        out += fmt::format("zlayer_service_replicas{{deployment=\"{}\",service=\"{}\",kind=\"{}\"}} {}\n",
                           prometheus_escape(d["name"].get<std::string>()),
                           prometheus_escape(s["name"].get<std::string>()), kind,
                           s["replicas"][kind].get<int64_t>());
  deps.latency.write(out);
  return out;
}

}  // namespace

Router make_rest_router(RestApiDeps deps) {
  Router r;
  auto d = std::make_shared<RestApiDeps>(deps);

  r.add("GET", "/v1/ping", [](Request&, Responder& res) { send_json(res, 200, {{"ok", true}}); });
  r.add("GET", "/v1/version", [](Request&, Responder& res) {
    send_json(res, 200, {{"version", ZLAYER_VERSION}, {"api", "v1"}});
  });
  r.add("GET", "/v1/openapi.json",
        [](Request&, Responder& res) { res.send(200, "application/json", std::string(openapi_document())); });
  r.add("GET", "/metrics",
        [d](Request&, Responder& res) { res.send(200, "text/plain; version=0.0.4", metrics_text(*d)); });

  r.add("GET", "/v1/deployments",
        [d](Request&, Responder& res) { send_json(res, 200, d->agent.status_all()); });
  r.add("POST", "/v1/deployments", [d](Request& req, Responder& res) {
    std::string file = req.header("X-Zlayer-File").value_or("deployment.zlayer.yml");
    auto st = d->agent.apply(req.body, file);
    if (ok_or_send(res, st)) send_json(res, 201, *st);
  });
  r.add("GET", "/v1/deployments/{name}", [d](Request& req, Responder& res) {
    auto st = d->agent.status(req.params["name"]);
    if (ok_or_send(res, st)) send_json(res, 200, *st);
  });
  r.add("DELETE", "/v1/deployments/{name}", [d](Request& req, Responder& res) {
    auto st = d->agent.remove(req.params["name"]);
    if (ok_or_send(res, st)) send_json(res, 200, {{"removed", req.params["name"]}});
  });
  r.add("POST", "/v1/deployments/{name}/services/{service}/scale", [d](Request& req, Responder& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("replicas") || !body["replicas"].is_number_integer()) {
      send_error(res,
                 Error{ErrorKind::invalid_argument, "scale: the body must be {\"replicas\": <integer>}"});
      return;
    }
    auto st = d->agent.scale(req.params["name"], req.params["service"], body["replicas"].get<int64_t>());
    if (!ok_or_send(res, st)) return;
    auto status = d->agent.status(req.params["name"]);
    if (ok_or_send(res, status)) send_json(res, 200, *status);
  });
  r.add("POST", "/v1/deployments/{name}/services/{service}/restart", [d](Request& req, Responder& res) {
    auto st = d->agent.restart(req.params["name"], req.params["service"]);
    if (ok_or_send(res, st)) send_json(res, 202, {{"restarting", req.params["service"]}});
  });
  r.add("GET", "/v1/deployments/{name}/services/{service}/logs", [d](Request& req, Responder& res) {
    std::string dep = req.params["name"], svc = req.params["service"];
    stream_service_logs(*d, dep, svc, req, res);
  });
  r.add("GET", "/v1/services/{ref}", [d](Request& req, Responder& res) {
    auto found = d->agent.find_service(req.params["ref"]);
    if (ok_or_send(res, found))
      send_json(res, 200, {{"deployment", found->first}, {"service", found->second}});
  });

  r.add("GET", "/v1/containers", [d](Request&, Responder& res) {
    auto all = d->runtime.list_containers();
    if (!ok_or_send(res, all)) return;
    json out = json::array();
    for (const auto& c : *all) out.push_back(container_json(c));
    send_json(res, 200, out);
  });
  r.add("GET", "/v1/containers/{id}", [d](Request& req, Responder& res) {
    auto c = d->runtime.inspect_container(req.params["id"]);
    if (ok_or_send(res, c)) send_json(res, 200, container_json(*c));
  });
  r.add("GET", "/v1/images", [d](Request&, Responder& res) {
    auto list = d->images.list();
    if (!ok_or_send(res, list)) return;
    json out = json::array();
    for (const auto& i : *list)
      out.push_back({{"reference", i.reference},
                     {"id", i.config_digest.str()},
                     {"manifest_digest", i.manifest_digest.str()},
                     {"size", i.size},
                     {"created_at", i.created_unix}});
    send_json(res, 200, out);
  });
  return r;
}

}  // namespace zl::api
