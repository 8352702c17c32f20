// The CLI's side of the daemon's REST API: JSON requests over the unix socket (or over the
// daemon's TLS listener, with a client certificate), with the daemon's error answers turned back
// into Errors of the same kind.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http_client.h"

namespace zl::cli {

// Where the daemon is reached: `zlayer --host` (env ZLAYER_HOST) and the client certificate
// options. Empty host: the unix socket under the root dir.
struct DaemonEndpointOptions {
  std::string host;  // "https://HOST:PORT" or "unix:///path/to/zlayer.sock"
  std::string tls_cert, tls_key, tls_ca;
};

class DaemonClient {
 public:
  // invalid_argument for a host that is not https:// or unix://, or https without a client
  // certificate and key.
  static Result<DaemonClient> connect(const std::string& root, const DaemonEndpointOptions& opts);

  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const std::string& body,
                              const std::string& content_type = "application/json", HttpHeaders extra = {});
  Result<nlohmann::json> del(const std::string& path);
  // A streamed GET: chunks go to `sink` as they arrive.
  Status stream(const std::string& path, const std::function<Status(std::string_view)>& sink);

 private:
  DaemonClient() = default;
  // A request for `path` with the endpoint's transport filled in.
  HttpRequest request(const std::string& path) const;
  Result<nlohmann::json> call(HttpRequest req);
  Error unreachable(const Error& e) const;
  std::string socket_;    // the unix socket, or
  std::string base_url_;  // https://HOST:PORT
  DaemonEndpointOptions tls_;
  std::shared_ptr<HttpClient> http_ = std::make_shared<HttpClient>("zlayer-cli");
};

// <root>/run/zlayer.sock
std::string daemon_socket_path(const std::string& root);

}  // namespace zl::cli
