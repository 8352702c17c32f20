#include "api/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <atomic>
#include <limits>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/strings.h"

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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& l, asio::thread_pool& p, Router r, ServerOptions o)
      : loop(l), pool(p), router(std::move(r)), opts(std::move(o)), acceptor(l) {}

  asio::io_context& loop;
  asio::thread_pool& pool;
  Router router;
  ServerOptions opts;
  asio::local::stream_protocol::acceptor acceptor;
  std::atomic<bool> closed{false};
  bool listening = false;

  void accept();
};

namespace {

struct Connection;

// Answers one request on a pool thread with blocking writes: the loop does not touch the
// socket until the connection is handed back.
class ConnectionResponder : public Responder {
 public:
  ConnectionResponder(UnixSocket& sock, boost::beast::flat_buffer& buf, bool keep_alive, bool head)
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
    pollfd p{.fd = sock_.native_handle(), .events = POLLRDHUP, .revents = 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) broken_ = true;
    return broken_;
  }

  UnixSocket upgrade(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                     std::string& pending) override {
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

  bool answered() const override { return answered_; }
  bool reusable() const {
    return answered_ && !broken_ && !upgraded_ && keep_alive_ && (!streaming_ || ended_);
  }
  bool upgraded() const { return upgraded_; }
  int status() const { return status_; }

 private:
  UnixSocket& sock_;
  boost::beast::flat_buffer& buf_;
  bool keep_alive_, head_;
  bool answered_ = false, streaming_ = false, ended_ = false, broken_ = false, upgraded_ = false;
  int status_ = 0;
};

struct Connection : std::enable_shared_from_this<Connection> {
  Connection(std::shared_ptr<HttpServer::Impl> s, UnixSocket sock)
      : server(std::move(s)), sock(std::move(sock)) {}

  std::shared_ptr<HttpServer::Impl> server;
  UnixSocket sock;
  boost::beast::flat_buffer buf;
  // The header only; the body is read once the route says how (whole, or streamed).
  std::optional<http::request_parser<http::empty_body>> parser;

  // On the loop: wait for the next request's header without holding a pool thread.
  void wait_for_request() {
    parser.emplace();
    // No limit yet (the route sets it); not boost::none, which Boost 1.74 compares as smaller than any length.
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser->header_limit(64 * 1024);
    http::async_read_header(sock, buf, *parser,
                            [self = shared_from_this()](boost::system::error_code ec, size_t) {
                              if (ec) return;  // closed, or a garbled header: drop the connection
                              asio::post(self->server->pool, [self] { self->serve(); });
                            });
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

  // Reads the whole body into req.body (up to the server's limit).
  boost::system::error_code read_whole_body(Request& req) {
    http::request_parser<http::string_body> p{std::move(*parser)};
    auto length = p.content_length();  // checked against the header parser's limit only
    if (length && *length > server->opts.max_body_bytes) return http::error::body_limit;
    p.body_limit(server->opts.max_body_bytes);
    boost::system::error_code ec;
    if (!p.is_done()) http::read(sock, buf, p, ec);
    req.body = std::move(p.get().body());
    return ec;
  }

  // On a pool thread: read the body, run the handler, answer.
  void serve() {
    auto t0 = Clock::now();
    Request req = parse_head();
    bool keep_alive = parser->get().keep_alive();
    if (server->opts.prepare) server->opts.prepare(req);
    auto m = server->router.match(req);
    std::optional<http::request_parser<http::buffer_body>> streamed;
    boost::system::error_code ec;
    if (m.handler && m.body == Router::Body::streamed) {
      streamed.emplace(std::move(*parser));
      req.read_body = [this, &streamed](char* out, size_t n) -> Result<size_t> {
        auto& p = *streamed;
        while (!p.is_done()) {
          p.get().body().data = out;
          p.get().body().size = n;
          p.get().body().more = true;
          boost::system::error_code rec;
          http::read(sock, buf, p, rec);
          if (rec == http::error::need_buffer) rec = {};
          if (rec) return io("read request body: {}", rec.message());
          size_t got = n - p.get().body().size;
          if (got > 0) return got;
        }
        return size_t{0};
      };
      keep_alive = false;  // a handler may answer before it has read the whole body
    } else {
      ec = read_whole_body(req);
    }
    ConnectionResponder res(sock, buf, keep_alive && !ec, req.method == "HEAD");
    if (ec) {
      res.send(ec == http::error::body_limit ? 413 : 400, "application/json",
               nlohmann_error(ec == http::error::body_limit ? "request body too large"
                                                            : "malformed request: " + ec.message()),
               {});
    } else if (!m.handler) {
      res.send(m.path_known ? 405 : 404, "application/json",
               nlohmann_error(m.path_known ? fmt::format("method {} not allowed on {}", req.method, req.path)
                                           : fmt::format("no such endpoint: {} {}", req.method, req.path)),
               {});
    } else {
      try {
        (*m.handler)(req, res);
      } catch (const std::exception& e) {
        spdlog::error("api handler {} {} threw: {}", req.method, req.path, e.what());
        if (!res.answered())
          res.send(500, "application/json", nlohmann_error(std::string("internal error: ") + e.what()), {});
      }
      if (!res.answered()) res.send(500, "application/json", nlohmann_error("the handler gave no answer"), {});
      res.end_stream();
    }
    std::string route = m.pattern;
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    if (server->opts.on_done) server->opts.on_done(req, route, res.status(), took);
    if (res.upgraded()) return;  // the handler owns the connection now
    if (!res.reusable()) {
      sock.shutdown(UnixSocket::shutdown_both, ec);
      return;
    }
    asio::post(server->loop, [self = shared_from_this()] { self->wait_for_request(); });
  }

  static std::string nlohmann_error(const std::string& message) {
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
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, UnixSocket sock) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) std::make_shared<Connection>(self, std::move(sock))->wait_for_request();
    self->accept();
  });
}

HttpServer::HttpServer(asio::io_context& loop, asio::thread_pool& pool, Router router, ServerOptions opts)
    : impl_(std::make_shared<Impl>(loop, pool, std::move(router), std::move(opts))) {}

HttpServer::~HttpServer() {
  close();
}

Status HttpServer::listen() {
  const fs::path& path = impl_->opts.socket_path;
  std::error_code fec;
  if (fs::exists(fs::symlink_status(path, fec))) {
    // A live daemon answers on it; a dead one left the file behind.
    UnixSocket probe(impl_->loop);
    boost::system::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path.string()), ec);
    if (!ec) return conflict("another daemon is already listening on {}", path.string());
    if (!fs::is_socket(fs::symlink_status(path, fec)))
      return conflict("{} exists and is not a socket; not replacing it", path.string());
    fs::remove(path, fec);
  }
  boost::system::error_code ec;
  auto& a = impl_->acceptor;
  a.open(asio::local::stream_protocol(), ec);
  if (ec) return io("open socket for {}: {}", path.string(), ec.message());
  // Bind under a tight umask so the socket is never reachable by others, then open it to the group.
  mode_t old = ::umask(0177);
  a.bind(asio::local::stream_protocol::endpoint(path.string()), ec);
  ::umask(old);
  if (ec) return io("bind {}: {}", path.string(), ec.message());
  if (::chmod(path.c_str(), impl_->opts.mode) != 0) return errno_error(errno, "chmod " + path.string());
  a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return io("listen on {}: {}", path.string(), ec.message());
  impl_->listening = true;
  impl_->accept();
  return {};
}

void HttpServer::close() {
  if (!impl_) return;
  auto impl = impl_;
  if (impl->closed.exchange(true)) return;
  if (impl->listening) {
    std::error_code fec;
    fs::remove(impl->opts.socket_path, fec);
  }
  asio::post(impl->loop, [impl] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
  });
}

}  // namespace zl::api
