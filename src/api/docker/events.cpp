// Docker API: `docker events` (GET /events?since=&until=&filters=): the runtime's event log as
// docker's JSON messages, replayed from `since` and then followed until `until` or the client
// leaves. Image events are recorded by the image handlers here (image_event).
#include "api/docker/docker_api.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

// "1700000000.123456789" or "1700000000" (what the CLI sends) -> unix nanoseconds.
Result<int64_t> unix_time_nano(const std::string& text) {
  try {
    auto dot = text.find('.');
    int64_t secs = std::stoll(text.substr(0, dot));
    int64_t nanos = 0;
    if (dot != std::string::npos) {
      std::string frac = (text.substr(dot + 1) + "000000000").substr(0, 9);
      nanos = std::stoll(frac);
    }
    return secs * 1'000'000'000 + nanos;
  } catch (const std::exception&) {
    return invalid_argument("invalid timestamp \"{}\"", text);
  }
}

json event_json(const Event& e) {
  json attrs = e.attributes;
  std::string from;
  if (auto it = e.attributes.find("image"); it != e.attributes.end())
    from = attrs["image"] = familiar_image(it->second);
  json j = {{"status", e.action},
            {"id", e.id},
            {"Type", e.type},
            {"Action", e.action},
            {"Actor", {{"ID", e.id}, {"Attributes", attrs}}},
            {"scope", "local"},
            {"time", e.time_unix_nano / 1'000'000'000},
            {"timeNano", e.time_unix_nano}};
  if (!from.empty()) j["from"] = from;
  return j;
}

bool matches(const Event& e, const json& filters) {
  auto any = [&](const char* key, const std::function<bool(const std::string&)>& ok) {
    auto want = filter_values(filters, key);
    return want.empty() || std::any_of(want.begin(), want.end(), ok);
  };
  auto attr = [&](const char* key) {
    auto it = e.attributes.find(key);
    return it == e.attributes.end() ? std::string() : it->second;
  };
  return any("type", [&](const std::string& t) { return t == e.type; }) &&
         any("event", [&](const std::string& a) { return a == e.action; }) &&
         any("container",
             [&](const std::string& c) { return e.type == "container" && (e.id.starts_with(c) || attr("name") == c); }) &&
         any("image", [&](const std::string& i) {
           std::string image = e.type == "image" ? e.id : attr("image");
           return image == i || familiar_image(image) == familiar_image(i);
         });
}

}  // namespace

void image_event(DockerApiDeps& d, const std::string& action, const std::string& id, const std::string& name) {
  d.runtime.events().record_image(action, id, name);
}

void add_event_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  r.add("GET", "/events", [d](Request& req, Responder& res) {
    EventQuery q;
    for (const char* key : {"since", "until"}) {
      auto v = req.query_param(key);
      if (!v || v->empty()) continue;
      auto t = unix_time_nano(*v);
      if (!t) return send_error(res, t.error());
      if (std::string_view(key) == "since")
        q.since_unix_nano = *t;
      else
        q.until_unix_nano = *t;
    }
    json filters = json::parse(req.query_param("filters").value_or("{}"), nullptr, false);
    if (!filters.is_object()) return send_error(res, Error{ErrorKind::invalid_argument, "invalid filters"});
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    q.follow = !q.until_unix_nano || *q.until_unix_nano > now;
    q.stop = [&res] { return res.client_gone(); };
    res.begin_stream(200, "application/json");
    (void)d->runtime.events().read(q, [&](const Event& e) -> Status {
      if (!matches(e, filters)) return {};
      if (!res.write(json_text(event_json(e)) + "\n")) return unavailable("the client went away");
      return {};
    });
  });
}

}  // namespace zl::api::docker
