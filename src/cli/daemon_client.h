// The CLI's side of the daemon's REST API: JSON requests over the unix socket, with the
// daemon's error answers turned back into Errors of the same kind.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/http_client.h"

namespace zl::cli {

class DaemonClient {
 public:
  explicit DaemonClient(std::string socket_path);

  Result<nlohmann::json> get(const std::string& path);
  Result<nlohmann::json> post(const std::string& path, const std::string& body,
                              const std::string& content_type = "application/json", HttpHeaders extra = {});
  Result<nlohmann::json> del(const std::string& path);
  // A streamed GET: chunks go to `sink` as they arrive.
  Status stream(const std::string& path, const std::function<Status(std::string_view)>& sink);

 private:
  Result<nlohmann::json> call(HttpRequest req);
  std::string socket_;
  HttpClient http_;
};

// <root>/run/zlayer.sock
std::string daemon_socket_path(const std::string& root);

}  // namespace zl::cli
