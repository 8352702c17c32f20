// A small HTTP/1.1 server for the daemon's APIs, on a unix socket or (configured) on TCP with
// TLS and client certificates. Waiting for requests happens on one Boost.Asio event loop (Beast
// parses the header there); each request is then handled on a bounded thread pool, where a
// handler may block (runtime calls, pulls, followed logs).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json_fwd.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace zl::api {

namespace fs = std::filesystem;
using UnixSocket = boost::asio::local::stream_protocol::socket;

struct Request {
  std::string method;                         // "GET", "POST", ...
  std::string target;                         // as sent: "/v1/deployments?all=1"
  std::string path;                           // percent-decoded, without the query
  std::map<std::string, std::string> query;   // decoded query parameters (last one wins)
  std::map<std::string, std::string> params;  // path parameters of the matched route ("{name}")
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty for routes that stream their body (read it with read_body)
  // Routes added with Body::streamed: reads the next bytes of the body into buf (up to n; 0
  // once it has all been read). The body is never held in memory whole, and has no size limit.
  std::function<Result<size_t>(char* buf, size_t n)> read_body;

  // Case-insensitive header lookup.
  std::optional<std::string> header(std::string_view name) const;
  std::optional<std::string> query_param(std::string_view name) const;
  // Every value of a parameter that may repeat ("?names=a&names=b"), in order.
  std::vector<std::string> query_params(std::string_view name) const;
  // A query flag: present and not "0"/"false".
  bool query_flag(std::string_view name) const;
};

// How a handler answers: one whole response, or a chunked stream of parts, or (for protocol
// upgrades such as docker's attach) the raw connection. Exactly one of these per request.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void send(int status, std::string_view content_type, std::string body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  // Starts a chunked response; write() sends one chunk and returns false once the client is gone.
  virtual bool begin_stream(int status, std::string_view content_type,
                            const std::vector<std::pair<std::string, std::string>>& headers = {}) = 0;
  virtual bool write(std::string_view chunk) = 0;
  virtual void end_stream() = 0;
  // True when the peer has closed its end (for handlers that wait with nothing to write).
  virtual bool client_gone() = 0;
  // Sends the head of a response (e.g. 101 Switching Protocols) and hands over the connection;
  // the server forgets it. `pending` holds bytes the client already sent past the request.
  // Only a unix-socket connection can be handed over: over TLS the client gets a 501 and this
  // an unsupported error.
  virtual Result<UnixSocket> upgrade(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                                     std::string& pending) = 0;
  virtual bool answered() const = 0;
};

using Handler = std::function<void(Request&, Responder&)>;

// Routes by method and path pattern: "/v1/deployments/{name}" binds params["name"]; one
// "{name...}" segment takes one or more segments, slashes and all, between the segments before
// and after it ("/images/{name...}/json": image names contain slashes).
class Router {
 public:
  // How a route gets its request body: whole in Request::body (up to the server's limit), or
  // piece by piece through Request::read_body (image archives, `docker cp` uploads).
  enum class Body { buffered, streamed };
  void add(std::string method, std::string pattern, Handler handler, Body body = Body::buffered);
  struct Match {
    const Handler* handler = nullptr;
    std::string pattern;      // for metrics and logs
    bool path_known = false;  // some route has this path (then a missing method is a 405)
    Body body = Body::buffered;
  };
  Match match(Request& req) const;

 private:
  static bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
                             std::map<std::string, std::string>& params);
  struct Route {
    std::string method, pattern;
    std::vector<std::string> segments;
    Handler handler;
    Body body;
  };
  std::vector<Route> routes_;
};

// A TCP listener instead of the unix socket: TLS 1.2 or newer only, and only for clients that
// present a certificate the CA signed.
struct TlsListenOptions {
  std::string listen;  // "IP:PORT" ("[IPv6]:PORT")
  fs::path cert;       // PEM: the server's certificate (chain)
  fs::path key;        // PEM: its private key; refused when group or others may access it
  fs::path ca;         // PEM: the CA(s) whose client certificates are accepted
  std::chrono::milliseconds handshake_timeout{10000};  // a client silent during the handshake is dropped
  std::chrono::milliseconds idle_timeout{300000};      // and one idle between requests
};

struct ServerOptions {
  fs::path socket_path;  // unless `tls` is set
  std::optional<TlsListenOptions> tls;
  unsigned mode = 0660;
  size_t max_body_bytes = 64u << 20;
  // A buffered request body must arrive in full within it, and a streamed one may not stall for
  // longer: else the connection is dropped (a stalled client holds no thread meanwhile).
  std::chrono::milliseconds body_timeout{60000};
  // Adjusts a request before routing (the Docker API strips its "/v1.41" version prefix here).
  std::function<void(Request&)> prepare;
  // Called after each request (route pattern, or "" when none matched).
  std::function<void(const Request&, std::string_view route, int status, std::chrono::microseconds)> on_done;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& loop, boost::asio::thread_pool& pool, Router router,
             ServerOptions opts);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket (replacing a stale one left by a dead daemon; refusing a live one), or the
  // TLS listener (after loading and checking its certificates and key), and starts accepting on
  // the loop.
  Status listen();
  // Where it listens: the socket path or "IP:PORT".
  std::string address() const;
  // Stops accepting and removes the socket file; requests in flight finish.
  void close();

  struct Impl;  // the acceptor and connections (http_server.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

// A JSON document as text, for every answer of the APIs: never throws, invalid UTF-8 (a log
// line, a hostile spec echoed in an error) becomes U+FFFD.
std::string json_text(const nlohmann::json& j);

// JSON error bodies and status codes for zl::Error kinds, shared by the APIs.
int http_status_for(ErrorKind kind);

}  // namespace zl::api
