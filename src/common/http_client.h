// A small blocking HTTP client over libcurl (TCP or a unix socket): one request in, status + headers + body out,
// with an optional streaming body sink. Transport failures are `unavailable` errors.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace zl {

struct CurlLib;

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, or any other verb
  std::string url;
  std::string unix_socket;  // when set, connect to this unix socket (url still gives host and path)
  // https: a client certificate and its key (PEM) to present, and the CA file to verify the
  // server with instead of the system's.
  std::string tls_client_cert, tls_client_key, tls_ca_file;
  HttpHeaders headers;
  std::string body;              // POST body
  bool follow_redirects = true;  // blobs are redirected to storage; Authorization is not forwarded off-host
  // When set, a 2xx body is streamed here instead of kept in HttpResponse::body. An error
  // returned by the sink aborts the transfer and is returned by perform() as is.
  std::function<Status(std::string_view chunk)> body_sink;
  std::chrono::milliseconds connect_timeout{10000};
  // Abort when fewer than 1 byte/s arrive for this long (a stalled connection).
  std::chrono::seconds stall_timeout{60};
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;  // of the final response (after redirects), names as received
  std::string body;     // empty when streamed to body_sink
  std::string effective_url;
  // Case-insensitive lookup of the last header with this name.
  std::optional<std::string> header(std::string_view name) const;
  std::string content_type() const { return header("Content-Type").value_or(""); }
};

class HttpClient {
 public:
  explicit HttpClient(std::string user_agent = "zlayer");
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe; finished handles are kept for connection reuse.
  Result<HttpResponse> perform(const HttpRequest& req);
  Result<HttpResponse> get(std::string url, HttpHeaders headers = {});
  Result<HttpResponse> head(std::string url, HttpHeaders headers = {});

  // Percent-encodes a query parameter value.
  static std::string url_encode(std::string_view s);

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire(const CurlLib* api);
  void release(std::unique_ptr<Handle> h);

  std::string user_agent_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace zl
