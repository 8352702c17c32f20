// Docker API: `docker login` (POST /auth) checks the credentials against the registry with the
// same /v2/ ping `zlayer login` uses; the CLI keeps them and sends them with each pull
// (X-Registry-Auth), which the pull then uses instead of the daemon's own config file.
#include "api/docker/docker_api.h"
#include "image/auth.h"
#include "image/reference.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

// The registry a login names ("" and Docker Hub's URLs are docker.io).
std::string login_registry(const std::string& server_address) {
  std::string host = normalize_registry_key(server_address);
  return host.empty() ? std::string(default_registry) : host;
}

}  // namespace

std::optional<Credentials> registry_auth(const Request& req) {
  auto header = req.header("X-Registry-Auth");
  if (!header || header->empty()) return std::nullopt;
  auto text = base64_decode(*header);
  if (!text) return std::nullopt;
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  Credentials c{j.value("username", ""), j.value("password", "")};
  if (c.username.empty() && j.contains("auth") && j["auth"].is_string()) {  // base64 "user:pass"
    if (auto pair = base64_decode(j["auth"].get<std::string>()); pair && pair->find(':') != std::string::npos) {
      c.username = pair->substr(0, pair->find(':'));
      c.password = pair->substr(pair->find(':') + 1);
    }
  }
  if (c.username.empty()) return std::nullopt;
  return c;
}

void add_auth_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  r.add("POST", "/auth", [d](Request& req, Responder& res) {
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object())
      return send_error(res, Error{ErrorKind::invalid_argument, "the body must be a JSON object"});
    std::string registry = login_registry(body.value("serveraddress", ""));
    RegistryOptions opts = d->registry;
    opts.credentials = Credentials{body.value("username", ""), body.value("password", "")};
    auto client = RegistryClient::create(registry, opts);
    if (!client) return send_error(res, client.error());
    if (auto st = (*client)->ping(); !st) {
      if (st.error().kind != ErrorKind::unauthorized) return send_error(res, st.error());
      return send_error(res, Error{ErrorKind::unauthorized,
                                   fmt::format("login attempt to {}/v2/ failed with status: 401 Unauthorized",
                                               (*client)->base_url())});
    }
    send_json(res, 200, {{"Status", "Login Succeeded"}, {"IdentityToken", ""}});
  });
}

}  // namespace zl::api::docker
