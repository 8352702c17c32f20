#include "api/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <future>
#include <limits>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <type_traits>

#include "api/tls_context.h"
#include "common/strings.h"
#include "net/dns_server.h"

namespace zl::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  for (auto& s : split(path, '/'))
    if (!s.empty()) out.push_back(std::string(s));
  return out;
}

// Calls fn(key, value) for each parameter of the target's query string, decoded.
template <class Fn>
void for_each_query_param(std::string_view target, Fn fn) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return;
  for (auto& kv : split(target.substr(q + 1), '&')) {
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    fn(percent_decode(kv.substr(0, eq), true),
       eq == std::string_view::npos ? std::string() : percent_decode(kv.substr(eq + 1), true));
  }
}

}  // namespace

std::vector<std::string> Request::query_params(std::string_view name) const {
  std::vector<std::string> out;
  for_each_query_param(target, [&](const std::string& k, std::string v) {
    if (k == name) out.push_back(std::move(v));
  });
  return out;
}

std::optional<std::string> Request::header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it)
    if (iequals(it->first, name)) return it->second;
  return std::nullopt;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

bool Request::query_flag(std::string_view name) const {
  auto v = query_param(name);
  return v && *v != "0" && *v != "false" && *v != "False";
}

void Router::add(std::string method, std::string pattern, Handler handler, Body body) {
  auto segments = path_segments(pattern);
  routes_.push_back({std::move(method), std::move(pattern), std::move(segments), std::move(handler), body});
}

Router::Match Router::match(Request& req) const {
  // Path parameters are matched on the raw (still encoded) segments, then decoded one by one,
  // so an encoded "/" inside a name does not split it.
  std::string_view raw = req.target;
  raw = raw.substr(0, raw.find('?'));
  auto segs = path_segments(raw);
  Match m;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> params;
    if (!match_segments(r.segments, segs, params)) continue;
    m.path_known = true;
    if (r.method != req.method && !(r.method == "GET" && req.method == "HEAD")) continue;
    req.params = std::move(params);
    m.handler = &r.handler;
    m.pattern = r.pattern;
    m.body = r.body;
    return m;
  }
  return m;
}

bool Router::match_segments(const std::vector<std::string>& pattern, const std::vector<std::string>& segs,
                            std::map<std::string, std::string>& params) {
  auto is_param = [](const std::string& p) { return p.size() > 2 && p.front() == '{' && p.back() == '}'; };
  size_t rest = pattern.size();
  for (size_t i = 0; i < pattern.size(); ++i)
    if (is_param(pattern[i]) && pattern[i].ends_with("...}")) rest = i;
  if (rest == pattern.size() ? segs.size() != pattern.size() : segs.size() < pattern.size()) return false;
  // Segments before the rest parameter match from the front, those after it from the back.
  size_t tail = rest == pattern.size() ? 0 : pattern.size() - rest - 1;
  auto match_one = [&](const std::string& p, const std::string& seg) {
    if (!is_param(p)) return p == seg;
    params[p.substr(1, p.size() - 2)] = percent_decode(seg, false);
    return true;
  };
  for (size_t i = 0; i < std::min(rest, pattern.size()); ++i)
    if (!match_one(pattern[i], segs[i])) return false;
  if (rest == pattern.size()) return true;
  for (size_t k = 0; k < tail; ++k)
    if (!match_one(pattern[rest + 1 + k], segs[segs.size() - tail + k])) return false;
  std::string joined;
  for (size_t j = rest; j < segs.size() - tail; ++j)
    joined += (j > rest ? "/" : "") + percent_decode(segs[j], false);
  const auto& p = pattern[rest];
  params[p.substr(1, p.size() - 5)] = joined;
  return true;
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int http_status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_argument:
      return 400;
    case ErrorKind::not_found:
      return 404;
    case ErrorKind::already_exists:
    case ErrorKind::conflict:
      return 409;
    case ErrorKind::unauthorized:
      return 401;
    case ErrorKind::permission_denied:
      return 403;
    case ErrorKind::unavailable:
      return 503;
    case ErrorKind::unsupported:
      return 501;
    case ErrorKind::corrupt:
    case ErrorKind::io:
    case ErrorKind::internal:
      return 500;
  }
  return 500;
}

// ---- connections ----

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& l, asio::thread_pool& p, Router r, ServerOptions o)
      : loop(l), pool(p), router(std::move(r)), opts(std::move(o)), acceptor(l), tcp_acceptor(l) {}

  asio::io_context& loop;
  asio::thread_pool& pool;
  Router router;
  ServerOptions opts;
  asio::local::stream_protocol::acceptor acceptor;  // the unix socket
  asio::ip::tcp::acceptor tcp_acceptor;             // or TCP, with TLS
  std::unique_ptr<asio::ssl::context> tls;
  std::string tls_address;  // "IP:PORT" once bound
  std::atomic<bool> closed{false};
  bool listening = false;

  void accept();
  void accept_tls();
  Status listen_unix();
  Status listen_tls();
};

namespace {

// Answers one request on a pool thread with blocking writes: the loop does not touch the
// connection until it is handed back.
template <class Stream>
class ConnectionResponder : public Responder {
 public:
  ConnectionResponder(Stream& sock, boost::beast::flat_buffer& buf, bool keep_alive, bool head)
      : sock_(sock), buf_(buf), keep_alive_(keep_alive), head_(head) {}

  void send(int status, std::string_view content_type, std::string body,
            const std::vector<std::pair<std::string, std::string>>& headers) override {
    if (answered_) return;
    answered_ = true;
    status_ = status;
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "zlayer");
    if (!content_type.empty()) res.set(http::field::content_type, std::string(content_type));
    for (const auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    if (head_) {
      res.content_length(body.size());
      http::response_serializer<http::string_body> sr{res};
      boost::system::error_code ec;
      http::write_header(sock_, sr, ec);
      if (ec) broken_ = true;
      return;
    }
    res.body() = std::move(body);
    res.prepare_payload();
    boost::system::error_code ec;
    http::write(sock_, res, ec);
    if (ec) broken_ = true;
  }

  bool begin_stream(int status, std::string_view content_type,
                    const std::vector<std::pair<std::string, std::string>>& headers) override {
    if (answered_) return false;
    answered_ = streaming_ = true;
    status_ = status;
    http::response<http::empty_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "zlayer");
    if (!content_type.empty()) res.set(http::field::content_type, std::string(content_type));
    for (const auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    boost::system::error_code ec;
    http::write_header(sock_, sr, ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  bool write(std::string_view chunk) override {
    if (!streaming_ || broken_) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the stream
    boost::system::error_code ec;
    asio::write(sock_, http::make_chunk(asio::buffer(chunk.data(), chunk.size())), ec);
    if (ec) broken_ = true;
    return !broken_;
  }

  void end_stream() override {
    if (!streaming_ || ended_) return;
    ended_ = true;
    if (broken_) return;
    boost::system::error_code ec;
    asio::write(sock_, http::make_chunk_last(), ec);
    if (ec) broken_ = true;
  }

  bool client_gone() override {
    if (broken_) return true;
    pollfd p{.fd = sock_.lowest_layer().native_handle(), .events = POLLRDHUP, .revents = 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) broken_ = true;
    return broken_;
  }

  Result<UnixSocket> upgrade(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                             std::string& pending) override {
    if constexpr (!std::is_same_v<Stream, UnixSocket>) {
      (void)headers, (void)pending;
      send(501, "application/json",
           "{\"message\":\"connection upgrades (attach, interactive exec) are not supported over TLS\"}", {});
      return unsupported("HTTP {} upgrade over TLS", status);
    } else {
      answered_ = upgraded_ = true;
      status_ = status;
      auto reason = http::obsolete_reason(static_cast<http::status>(status));
      std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, std::string(reason.data(), reason.size()));
      for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
      head += "\r\n";
      boost::system::error_code ec;
      asio::write(sock_, asio::buffer(head), ec);
      auto data = buf_.data();
      pending.assign(static_cast<const char*>(data.data()), data.size());
      buf_.consume(buf_.size());
      return std::move(sock_);
    }
  }

  bool answered() const override { return answered_; }
  bool reusable() const {
    return answered_ && !broken_ && !upgraded_ && keep_alive_ && (!streaming_ || ended_);
  }
  bool upgraded() const { return upgraded_; }
  int status() const { return status_; }

 private:
  Stream& sock_;
  boost::beast::flat_buffer& buf_;
  bool keep_alive_, head_;
  bool answered_ = false, streaming_ = false, ended_ = false, broken_ = false, upgraded_ = false;
  int status_ = 0;
};

std::string json_error(const std::string& message) {
  std::string out = "{\"message\":\"";
  for (char c : message) {
    if (c == '"' || c == '\\')
      out += '\\', out += c;
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out + "\"}";
}

// Answers a request whose route is matched (or not) and whose body is read (or streams):
// 404/405 without a route, else the handler, with a 500 for one that throws or gives no answer.
// Not a template: one copy for every kind of stream.
void run_handler(const Router::Match& m, Request& req, Responder& res) {
  if (!m.handler) {
    res.send(m.path_known ? 405 : 404, "application/json",
             json_error(m.path_known ? fmt::format("method {} not allowed on {}", req.method, req.path)
                                     : fmt::format("no such endpoint: {} {}", req.method, req.path)),
             {});
    return;
  }
  try {
    (*m.handler)(req, res);
  } catch (const std::exception& e) {
    spdlog::error("api handler {} {} threw: {}", req.method, req.path, e.what());
    if (!res.answered())
      res.send(500, "application/json", json_error(std::string("internal error: ") + e.what()), {});
  }
  if (!res.answered()) res.send(500, "application/json", json_error("the handler gave no answer"), {});
  res.end_stream();
}

// One client connection, on a unix socket or a TLS stream. It belongs to the loop while it waits
// for a request's header and to one pool thread while that request is served.
template <class Stream>
struct Connection : std::enable_shared_from_this<Connection<Stream>> {
  Connection(std::shared_ptr<HttpServer::Impl> s, Stream sock)
      : server(std::move(s)), sock(std::move(sock)), deadline(server->loop) {}

  std::shared_ptr<HttpServer::Impl> server;
  Stream sock;
  boost::beast::flat_buffer buf;
  // The header only; the body is read once the route says how (whole, or streamed).
  std::optional<http::request_parser<http::empty_body>> parser;
  // The request being served, its route, and its whole body as read on the loop.
  Request req;
  Router::Match match;
  std::optional<http::request_parser<http::string_body>> whole;
  boost::system::error_code body_error;
  // On the loop: a TLS client silent past its deadline, or a request body that does not arrive in
  // time, is dropped. `waiting` tells a timer that fired from one cancelled too late.
  asio::steady_timer deadline;
  bool waiting = false;
  unsigned armed = 0;  // which arming of the timer is current (a late one from before is ignored)

  void expire_after(std::chrono::milliseconds after) {
    waiting = true;
    deadline.expires_after(after);
    deadline.async_wait([weak = this->weak_from_this(), arming = ++armed](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->waiting || self->armed != arming) return;
      self->waiting = false;
      self->sock.lowest_layer().close(ec);  // the pending handshake or read ends with an error
    });
  }
  void stop_waiting() {
    waiting = false;
    deadline.cancel();
  }

  // On the loop (TLS only): the handshake, which verifies the client's certificate.
  void handshake() requires(std::is_same_v<Stream, TlsStream>) {
    expire_after(server->opts.tls->handshake_timeout);
    sock.async_handshake(asio::ssl::stream_base::server,
                         [self = this->shared_from_this()](boost::system::error_code ec) {
                           bool timed_out = !self->waiting;
                           self->stop_waiting();
                           if (ec) {
                             boost::system::error_code ignored;
                             auto peer = self->sock.lowest_layer().remote_endpoint(ignored);
                             spdlog::info("api: TLS handshake with {} failed: {}",
                                          ignored ? "a client" : peer.address().to_string(),
                                          timed_out ? "timed out" : ec.message());
                             return;
                           }
                           self->wait_for_request();
                         });
  }

  // On the loop: wait for the next request's header without holding a pool thread.
  void wait_for_request() {
    parser.emplace();
    // No limit yet (the route sets it); not boost::none, which Boost 1.74 compares as smaller than any length.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser->header_limit(64 * 1024);
    if constexpr (std::is_same_v<Stream, TlsStream>) expire_after(server->opts.tls->idle_timeout);
    http::async_read_header(sock, buf, *parser,
                            [self = this->shared_from_this()](boost::system::error_code ec, size_t) {
                              if constexpr (std::is_same_v<Stream, TlsStream>) self->stop_waiting();
                              if (ec) return;  // closed, or a garbled header: drop the connection
                              self->route_request();
                            });
  }

  // On the loop: route the request and read a buffered body here, against the body deadline,
  // so that only a request ready to run takes a pool thread.
  void route_request() {
    req = parse_head();
    if (server->opts.prepare) server->opts.prepare(req);
    match = server->router.match(req);
    whole.reset();
    body_error = {};
    auto serve_on_pool = [self = this->shared_from_this()] {
      asio::post(self->server->pool, [self] { self->serve(); });
    };
    if (match.handler && match.body == Router::Body::streamed) return serve_on_pool();
    whole.emplace(std::move(*parser));
    auto length = whole->content_length();  // checked against the header parser's limit only
    if (length && *length > server->opts.max_body_bytes) {
      body_error = http::error::body_limit;
      return serve_on_pool();
    }
    whole->body_limit(server->opts.max_body_bytes);
    if (whole->is_done()) return serve_on_pool();
    expire_after(server->opts.body_timeout);
    http::async_read(sock, buf, *whole,
                     [self = this->shared_from_this(), serve_on_pool](boost::system::error_code ec, size_t) {
                       bool timed_out = !self->waiting;
                       self->stop_waiting();
                       if (timed_out) {
                         spdlog::info("api: the body of {} {} did not arrive within {} ms: connection dropped",
                                      self->req.method, self->req.target, self->server->opts.body_timeout.count());
                         return;
                       }
                       self->body_error = ec;
                       serve_on_pool();
                     });
  }

  // On a pool thread: one read of a streamed body, begun on the loop; the connection is closed
  // when it makes no progress within the body deadline.
  template <class Parser>
  boost::system::error_code read_streamed(Parser& p) {
    std::promise<boost::system::error_code> done;
    auto result = done.get_future();
    asio::post(server->loop, [this, &p, &done] {
      http::async_read(sock, buf, p, [&done](boost::system::error_code ec, size_t) { done.set_value(ec); });
    });
    if (result.wait_for(server->opts.body_timeout) == std::future_status::timeout) {
      asio::post(server->loop, [this] {
        boost::system::error_code ignored;
        sock.lowest_layer().close(ignored);
      });
      result.wait();
      return asio::error::timed_out;
    }
    return result.get();
  }

  // The request line, headers, path and query of the request whose header was read.
  Request parse_head() const {
    const auto& msg = parser->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    std::string_view t = req.target;
    req.path = percent_decode(t.substr(0, t.find('?')), false);
    for_each_query_param(t, [&req](const std::string& k, std::string v) { req.query[k] = std::move(v); });
    return req;
  }

  // On a pool thread: read the body, run the handler, answer.
  void serve() {
    auto t0 = Clock::now();
    const auto& m = match;
    std::optional<http::request_parser<http::buffer_body>> streamed;
    boost::system::error_code ec = body_error;
    bool keep_alive;
    if (!whole) {
      keep_alive = parser->get().keep_alive();
      streamed.emplace(std::move(*parser));
      req.read_body = [this, &streamed](char* out, size_t n) -> Result<size_t> {
        auto& p = *streamed;
        while (!p.is_done()) {
          p.get().body().data = out;
          p.get().body().size = n;
          p.get().body().more = true;
          boost::system::error_code rec = read_streamed(p);
          if (rec == http::error::need_buffer) rec = {};
          if (rec) return io("read request body: {}", rec.message());
          size_t got = n - p.get().body().size;
          if (got > 0) return got;
        }
        return size_t{0};
      };
      keep_alive = false;  // a handler may answer before it has read the whole body
    } else {
      keep_alive = whole->get().keep_alive();
      req.body = std::move(whole->get().body());
    }
    ConnectionResponder<Stream> res(sock, buf, keep_alive && !ec, req.method == "HEAD");
    if (ec) {
      res.send(ec == http::error::body_limit ? 413 : 400, "application/json",
               json_error(ec == http::error::body_limit ? "request body too large"
                                                        : "malformed request: " + ec.message()),
               {});
    } else {
      run_handler(m, req, res);
    }
    std::string route = m.pattern;
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    if (server->opts.on_done) server->opts.on_done(req, route, res.status(), took);
    if (res.upgraded()) return;  // the handler owns the connection now
    if (!res.reusable()) {
      // Over TLS without a close_notify: the answers are framed, and waiting for the client's
      // close_notify could block this thread.
      sock.lowest_layer().shutdown(asio::socket_base::shutdown_both, ec);
      return;
    }
    asio::post(server->loop, [self = this->shared_from_this()] { self->wait_for_request(); });
  }
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, UnixSocket sock) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) std::make_shared<Connection<UnixSocket>>(self, std::move(sock))->wait_for_request();
    self->accept();
  });
}

void HttpServer::Impl::accept_tls() {
  tcp_acceptor.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, asio::ip::tcp::socket sock) {
        if (ec == asio::error::operation_aborted || !self->tcp_acceptor.is_open()) return;
        if (!ec) {
          sock.set_option(asio::ip::tcp::no_delay(true), ec);
          std::make_shared<Connection<TlsStream>>(self, TlsStream(std::move(sock), *self->tls))->handshake();
        }
        self->accept_tls();
      });
}

HttpServer::HttpServer(asio::io_context& loop, asio::thread_pool& pool, Router router, ServerOptions opts)
    : impl_(std::make_shared<Impl>(loop, pool, std::move(router), std::move(opts))) {}

HttpServer::~HttpServer() {
  close();
}

Status HttpServer::listen() {
  ZL_TRY(impl_->opts.tls ? impl_->listen_tls() : impl_->listen_unix());
  impl_->listening = true;
  return {};
}

std::string HttpServer::address() const {
  return impl_->opts.tls ? impl_->tls_address : impl_->opts.socket_path.string();
}

Status HttpServer::Impl::listen_unix() {
  const fs::path& path = opts.socket_path;
  std::error_code fec;
  if (fs::exists(fs::symlink_status(path, fec))) {
    // A live daemon answers on it; a dead one left the file behind.
    UnixSocket probe(loop);
    boost::system::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path.string()), ec);
    if (!ec) return conflict("another daemon is already listening on {}", path.string());
    if (!fs::is_socket(fs::symlink_status(path, fec)))
      return conflict("{} exists and is not a socket; not replacing it", path.string());
    fs::remove(path, fec);
  }
  boost::system::error_code ec;
  auto& a = acceptor;
  a.open(asio::local::stream_protocol(), ec);
  if (ec) return io("open socket for {}: {}", path.string(), ec.message());
  // Bind under a tight umask so the socket is never reachable by others, then open it to the group.
  mode_t old = ::umask(0177);
  a.bind(asio::local::stream_protocol::endpoint(path.string()), ec);
  ::umask(old);
  if (ec) return io("bind {}: {}", path.string(), ec.message());
  if (::chmod(path.c_str(), opts.mode) != 0) return errno_error(errno, "chmod " + path.string());
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return io("listen on {}: {}", path.string(), ec.message());
  accept();
  return {};
}

Status HttpServer::Impl::listen_tls() {
  const auto& t = *opts.tls;
  ZL_TRY_ASSIGN(auto ep, net::parse_dns_endpoint(t.listen, 0).map_error([](Error e) {
    return std::move(e).wrap("--tls-listen");
  }));
  if (ep.port == 0) return invalid_argument("--tls-listen \"{}\": expected IP:PORT", t.listen);
  ZL_TRY_ASSIGN(tls, make_tls_server_context(t.cert, t.key, t.ca));
  asio::ip::tcp::endpoint endpoint(ep.address, ep.port);
  boost::system::error_code ec;
  auto& a = tcp_acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return io("listen on {} (TLS): {}", ep.str(), ec.message());
  tls_address = ep.str();
  accept_tls();
  return {};
}

void HttpServer::close() {
  if (!impl_) return;
  auto impl = impl_;
  if (impl->closed.exchange(true)) return;
  if (impl->listening && !impl->opts.tls) {
    std::error_code fec;
    fs::remove(impl->opts.socket_path, fec);
  }
  asio::post(impl->loop, [impl] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->tcp_acceptor.close(ec);
  });
}

}  // namespace zl::api
