// Docker API: networks — list, inspect, create, remove, prune, connect, disconnect — over
// zlayer's networks (the ones `zlayer network` and `--network` use).
#include "api/docker/docker_api.h"
#include "net/network_json.h"

namespace zl::api::docker {

using nlohmann::json;

void add_network_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  auto& rt = d->runtime;
  auto name_of = [&rt](const std::string& id) {
    auto c = rt.inspect_container(id);
    return c ? c->name : std::string();
  };
  auto no_such = [](const std::string& ref, const Error& e) {
    if (e.kind == ErrorKind::not_found) return Error{ErrorKind::not_found, "network " + ref + " not found"};
    return e;
  };

  r.add("GET", "/networks", [&rt, name_of](Request&, Responder& res) {
    auto nm = rt.network();
    if (!nm) return send_error(res, nm.error());
    auto list = (*nm)->list_networks();
    if (!list) return send_error(res, list.error());
    json out = json::array();
    for (const auto& n : *list) {
      auto j = net::docker_network_json(**nm, n, name_of);
      if (!j) return send_error(res, j.error());
      out.push_back(*j);
    }
    send_json(res, 200, out);
  });
  r.add("GET", "/networks/{id}", [&rt, name_of, no_such](Request& req, Responder& res) {
    auto nm = rt.network();
    if (!nm) return send_error(res, nm.error());
    auto n = (*nm)->inspect_network(req.params["id"]);
    if (!n) return send_error(res, no_such(req.params["id"], n.error()));
    auto j = net::docker_network_json(**nm, *n, name_of);
    if (!j) return send_error(res, j.error());
    send_json(res, 200, *j);
  });
  r.add("POST", "/networks/create", [&rt](Request& req, Responder& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("Name") || !body["Name"].is_string())
      return send_error(res, Error{ErrorKind::invalid_argument, "network create: Name is required"});
    std::string driver = body.value("Driver", "bridge");
    if (!driver.empty() && driver != "bridge")
      return send_error(
          res, Error{ErrorKind::unsupported, "network driver " + driver + " is not supported (bridge only)"});
    std::string subnet;
    if (body.contains("IPAM") && body["IPAM"].is_object() && body["IPAM"].contains("Config") &&
        body["IPAM"]["Config"].is_array() && !body["IPAM"]["Config"].empty())
      subnet = body["IPAM"]["Config"][0].value("Subnet", "");
    auto nm = rt.network();
    if (!nm) return send_error(res, nm.error());
    auto n = (*nm)->create_network(body["Name"].get<std::string>(), subnet);
    if (!n) return send_error(res, n.error());
    send_json(res, 201, {{"Id", n->id}, {"Warning", ""}});
  });
  r.add("DELETE", "/networks/{id}", [&rt, no_such](Request& req, Responder& res) {
    auto nm = rt.network();
    if (!nm) return send_error(res, nm.error());
    auto st = (*nm)->remove_network(req.params["id"]);
    if (!st) return send_error(res, no_such(req.params["id"], st.error()));
    res.send(204, "", "");
  });
  r.add("POST", "/networks/prune", [&rt](Request&, Responder& res) {
    auto nm = rt.network();
    if (!nm) return send_error(res, nm.error());
    auto list = (*nm)->list_networks();
    if (!list) return send_error(res, list.error());
    json deleted = json::array();
    for (const auto& n : *list) {
      if (n.is_default) continue;
      auto users = (*nm)->network_users(n.name);
      if (users && users->empty() && (*nm)->remove_network(n.name)) deleted.push_back(n.name);
    }
    send_json(res, 200, {{"NetworksDeleted", deleted}});
  });
  // {"Container": ref, "EndpointConfig": {"Aliases": [...]}} / {"Container": ref, "Force": bool}
  auto container_of = [](const json& body) -> Result<std::string> {
    if (!body.is_object() || !body.contains("Container") || !body["Container"].is_string())
      return invalid_argument("Container is required");
    return body["Container"].get<std::string>();
  };
  r.add("POST", "/networks/{id}/connect", [&rt, container_of](Request& req, Responder& res) {
    json body = json::parse(req.body, nullptr, false);
    auto ref = container_of(body);
    if (!ref) return send_error(res, ref.error());
    std::vector<std::string> aliases;
    if (auto ec = body.find("EndpointConfig"); ec != body.end() && ec->is_object()) {
      if (auto a = ec->find("Aliases"); a != ec->end() && a->is_array())
        for (const auto& alias : *a)
          if (alias.is_string()) aliases.push_back(alias.get<std::string>());
    }
    if (auto c = rt.inspect_container(*ref); !c) return send_error(res, c.error());
    auto st = rt.connect_network(*ref, req.params["id"], aliases);
    if (!st) return send_error(res, st.error());
    res.send(200, "", "");
  });
  r.add("POST", "/networks/{id}/disconnect", [&rt, container_of](Request& req, Responder& res) {
    auto ref = container_of(json::parse(req.body, nullptr, false));
    if (!ref) return send_error(res, ref.error());
    if (auto c = rt.inspect_container(*ref); !c) return send_error(res, c.error());
    auto st = rt.disconnect_network(*ref, req.params["id"]);
    if (!st) return send_error(res, st.error());
    res.send(200, "", "");
  });
}

}  // namespace zl::api::docker
