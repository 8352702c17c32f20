#include "cli/daemon_client.h"

namespace zl::cli {

using nlohmann::json;

namespace {

ErrorKind kind_for_status(long status) {
  switch (status) {
    case 400:
      return ErrorKind::invalid_argument;
    case 401:
      return ErrorKind::unauthorized;
    case 403:
      return ErrorKind::permission_denied;
    case 404:
      return ErrorKind::not_found;
    case 409:
      return ErrorKind::conflict;
    case 501:
      return ErrorKind::unsupported;
    case 503:
      return ErrorKind::unavailable;
    default:
      return ErrorKind::internal;
  }
}

}  // namespace

std::string daemon_socket_path(const std::string& root) {
  return root + "/run/zlayer.sock";
}

DaemonClient::DaemonClient(std::string socket_path) : socket_(std::move(socket_path)), http_("zlayer-cli") {}

Result<json> DaemonClient::call(HttpRequest req) {
  req.unix_socket = socket_;
  req.url = "http://zlayer" + req.url;
  req.follow_redirects = false;
  req.stall_timeout = std::chrono::seconds(600);
  auto resp = http_.perform(req);
  if (!resp)
    return unavailable("cannot reach the zlayer daemon on {} (is `zlayer daemon` running?): {}", socket_,
                       resp.error().message);
  json body;
  if (!resp->body.empty()) {
    body = json::parse(resp->body, nullptr, false);
    if (body.is_discarded())
      return internal("the daemon answered {} with a body that is not JSON", resp->status);
  }
  if (resp->status >= 400) {
    std::string msg = body.is_object() && body.contains("message") && body["message"].is_string()
                          ? body["message"].get<std::string>()
                          : fmt::format("the daemon answered {}", resp->status);
    return make_error(kind_for_status(resp->status), msg);
  }
  return body;
}

Result<json> DaemonClient::get(const std::string& path) {
  HttpRequest r;
  r.url = path;
  return call(std::move(r));
}

Result<json> DaemonClient::post(const std::string& path, const std::string& body,
                                const std::string& content_type, HttpHeaders extra) {
  HttpRequest r;
  r.method = "POST";
  r.url = path;
  r.body = body;
  r.headers = std::move(extra);
  r.headers.emplace_back("Content-Type", content_type);
  return call(std::move(r));
}

Result<json> DaemonClient::del(const std::string& path) {
  HttpRequest r;
  r.method = "DELETE";
  r.url = path;
  return call(std::move(r));
}

Status DaemonClient::stream(const std::string& path, const std::function<Status(std::string_view)>& sink) {
  HttpRequest r;
  r.url = "http://zlayer" + path;
  r.unix_socket = socket_;
  r.stall_timeout = std::chrono::hours(24 * 365);
  r.body_sink = sink;
  auto resp = http_.perform(r);
  if (!resp) return unavailable("cannot reach the zlayer daemon on {}: {}", socket_, resp.error().message);
  if (resp->status >= 400) {
    json body = json::parse(resp->body, nullptr, false);
    std::string msg = body.is_object() && body.contains("message")
                          ? body["message"].get<std::string>()
                          : fmt::format("the daemon answered {}", resp->status);
    return make_error(kind_for_status(resp->status), msg);
  }
  return {};
}

}  // namespace zl::cli
