// Docker API: volumes — list, create, inspect, remove, prune — over zlayer's volume store (the
// one `-v NAME:/path` and `zlayer volume` use).
#include "api/docker/docker_api.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

json volume_json(const VolumeInfo& v) {
  return {{"Name", v.name},
          {"Driver", v.driver},
          {"Mountpoint", v.mountpoint.string()},
          {"CreatedAt", rfc3339(v.created_at)},
          {"Labels", v.labels},
          {"Options", v.options},
          {"Scope", "local"}};
}

}  // namespace

void add_volume_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  auto& rt = d->runtime;
  auto usage = [&rt] { return rt.volume_users(); };

  r.add("GET", "/volumes", [&rt](Request&, Responder& res) {
    auto list = rt.volumes().list();
    if (!list) return send_error(res, list.error());
    json vols = json::array();
    for (const auto& v : *list) vols.push_back(volume_json(v));
    send_json(res, 200, {{"Volumes", vols}, {"Warnings", json::array()}});
  });
  r.add("POST", "/volumes/create", [&rt](Request& req, Responder& res) {
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (!body.is_object())
      return send_error(res, Error{ErrorKind::invalid_argument, "the body must be a JSON object"});
    std::string driver = body.value("Driver", "local");
    if (!driver.empty() && driver != "local")
      return send_error(
          res, Error{ErrorKind::unsupported, "volume driver " + driver + " is not supported (only local)"});
    VolumeCreateOptions opts;
    if (body.contains("Labels") && body["Labels"].is_object())
      opts.labels = body["Labels"].get<std::map<std::string, std::string>>();
    if (body.contains("DriverOpts") && body["DriverOpts"].is_object() && !body["DriverOpts"].empty())
      return send_error(
          res, Error{ErrorKind::unsupported, "driver options are not supported by the local driver"});
    std::string name = body.value("Name", "");
    auto v = rt.volumes().create(name.empty() ? new_volume_name() : name, opts);
    if (!v) return send_error(res, v.error());
    send_json(res, 201, volume_json(*v));
  });
  r.add("GET", "/volumes/{name}", [&rt](Request& req, Responder& res) {
    auto v = rt.volumes().inspect(req.params["name"]);
    if (!v) return send_error(res, Error{v.error().kind, "get " + req.params["name"] + ": no such volume"});
    send_json(res, 200, volume_json(*v));
  });
  r.add("DELETE", "/volumes/{name}", [&rt, usage](Request& req, Responder& res) {
    auto st = rt.volumes().remove(req.params["name"], req.query_flag("force"), usage);
    if (!st) {
      if (st.error().kind == ErrorKind::not_found)
        return send_error(res, Error{ErrorKind::not_found, "get " + req.params["name"] + ": no such volume"});
      return send_error(res, st.error());
    }
    res.send(204, "", "");
  });
  r.add("POST", "/volumes/prune", [&rt, usage](Request&, Responder& res) {
    auto report = rt.volumes().prune(usage);
    if (!report) return send_error(res, report.error());
    send_json(res, 200, {{"VolumesDeleted", report->removed}, {"SpaceReclaimed", report->bytes_freed}});
  });
}

}  // namespace zl::api::docker
