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

Result<DaemonClient> DaemonClient::connect(const std::string& root, const DaemonEndpointOptions& opts) {
  DaemonClient c;
  if (opts.host.empty()) {
    c.socket_ = daemon_socket_path(root);
  } else if (opts.host.starts_with("unix://")) {
    c.socket_ = opts.host.substr(7);
    if (c.socket_.empty()) return invalid_argument("--host \"{}\": expected unix:///PATH", opts.host);
  } else if (opts.host.starts_with("https://")) {
    if (opts.tls_cert.empty() || opts.tls_key.empty())
      return invalid_argument(
          "--host {}: the daemon's TLS listener wants a client certificate: give --tls-cert and --tls-key "
          "(and --tls-ca for a private CA)",
          opts.host);
    c.base_url_ = opts.host;
    while (c.base_url_.ends_with('/')) c.base_url_.pop_back();
    c.tls_ = opts;
  } else {
    return invalid_argument(
        "--host \"{}\": expected https://HOST:PORT (the daemon's TLS listener) or unix:///PATH", opts.host);
  }
  return c;
}

HttpRequest DaemonClient::request(const std::string& path) const {
  HttpRequest r;
  if (base_url_.empty()) {
    r.unix_socket = socket_;
    r.url = "http://zlayer" + path;
  } else {
    r.url = base_url_ + path;
    r.tls_client_cert = tls_.tls_cert;
    r.tls_client_key = tls_.tls_key;
    r.tls_ca_file = tls_.tls_ca;
  }
  return r;
}

Error DaemonClient::unreachable(const Error& e) const {
  if (!base_url_.empty())
    return Error{ErrorKind::unavailable,
                 fmt::format("cannot reach the zlayer daemon at {}: {}", base_url_, e.message)};
  return Error{ErrorKind::unavailable,
               fmt::format("cannot reach the zlayer daemon on {} (is `zlayer daemon` running?): {}", socket_,
                           e.message)};
}

Result<json> DaemonClient::call(HttpRequest req) {
  req.follow_redirects = false;
  req.stall_timeout = std::chrono::seconds(600);
  auto resp = http_->perform(req);
  if (!resp) return tl::unexpected(unreachable(resp.error()));
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
  return call(request(path));
}

Result<json> DaemonClient::post(const std::string& path, const std::string& body,
                                const std::string& content_type, HttpHeaders extra) {
  HttpRequest r = request(path);
  r.method = "POST";
  r.body = body;
  r.headers = std::move(extra);
  r.headers.emplace_back("Content-Type", content_type);
  return call(std::move(r));
}

Result<json> DaemonClient::del(const std::string& path) {
  HttpRequest r = request(path);
  r.method = "DELETE";
  return call(std::move(r));
}

Status DaemonClient::stream(const std::string& path, const std::function<Status(std::string_view)>& sink) {
  HttpRequest r = request(path);
  r.stall_timeout = std::chrono::hours(24 * 365);
  r.body_sink = sink;
  auto resp = http_->perform(r);
  if (!resp) return tl::unexpected(unreachable(resp.error()));
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
