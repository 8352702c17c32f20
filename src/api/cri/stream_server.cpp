#include "api/cri/stream_server.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/ids.h"

namespace zl::api::cri {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr unsigned char kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4, kClose = 255;
constexpr auto kTokenLifetime = std::chrono::minutes(1);

struct Pipe {
  UniqueFd rd, wr;
  static Result<Pipe> make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error(errno, "pipe");
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
};

// Reads `fd` to its end, handing each chunk to `sink`.
void pump(int fd, const std::function<void(std::string)>& sink) {
  char buf[32 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    sink(std::string(buf, static_cast<size_t>(n)));
  }
}

}  // namespace

std::string exit_status_json(int exit_code) {
  if (exit_code == 0) return R"({"metadata":{},"status":"Success"})";
  json j = {{"metadata", json::object()},
            {"status", "Failure"},
            {"message", fmt::format("command terminated with non-zero exit code: exit code {}", exit_code)},
            {"reason", "NonZeroExitCode"},
            {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", std::to_string(exit_code)}}}}}}};
  return j.dump();
}

struct StreamServer::Core {
  LinuxRuntime& rt;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::string base_url;
  std::mutex mu;
  struct Pending {
    StreamRequest req;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Pending> pending;

  explicit Core(LinuxRuntime& r) : rt(r) {}

  std::optional<StreamRequest> take(const std::string& token) {
    std::lock_guard lock(mu);
    auto now = std::chrono::steady_clock::now();
    std::erase_if(pending, [&](const auto& kv) { return kv.second.expires < now; });
    auto it = pending.find(token);
    if (it == pending.end()) return std::nullopt;
    StreamRequest r = std::move(it->second.req);
    pending.erase(it);
    return r;
  }
};

namespace {

// One client: the HTTP upgrade, then the WebSocket, with the runtime call on a thread of its own.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<StreamServer::Core> core, tcp::socket socket)
      : core_(std::move(core)), http_(std::move(socket)) {}

  void run() {
    http_.expires_after(std::chrono::seconds(30));
    http::async_read(http_, buf_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (!ec) self->on_request();
    });
  }

  // From any thread: one frame on `channel` (queued; the Asio thread writes them in order).
  void send(unsigned char channel, std::string data) {
    std::string frame(1, static_cast<char>(channel));
    frame += data;
    asio::post(core_->io, [self = shared_from_this(), frame = std::move(frame)]() mutable {
      if (self->closed_) return;
      self->out_.push_back(std::move(frame));
      if (self->out_.size() == 1) self->write_next();
    });
  }

  // From the worker: the exit status, then a normal close once everything is written.
  void finish(int exit_code) {
    send(kError, exit_status_json(exit_code));
    asio::post(core_->io, [self = shared_from_this()] {
      self->closing_ = true;
      if (self->out_.empty()) self->close();
    });
  }

  bool gone() const { return gone_; }

 private:
  void reject(http::status status, std::string why) {
    auto res = std::make_shared<http::response<http::string_body>>(status, req_.version());
    res->set(http::field::content_type, "text/plain");
    res->body() = std::move(why) + "\n";
    res->prepare_payload();
    http::async_write(http_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ec;
      self->http_.socket().shutdown(tcp::socket::shutdown_both, ec);
    });
  }

  void on_request() {
    std::string target(req_.target());
    auto slash = target.find('/', 1);
    std::string token = slash == std::string::npos ? "" : target.substr(slash + 1, target.find('?') - slash - 1);
    auto r = core_->take(token);
    if (!r) return reject(http::status::not_found, "unknown or expired stream");
    if (!websocket::is_upgrade(req_))
      return reject(http::status::bad_request, "only WebSocket streams (v5.channel.k8s.io, v4.channel.k8s.io)");
    std::string offered(req_[http::field::sec_websocket_protocol]);
    for (const char* p : {"v5.channel.k8s.io", "v4.channel.k8s.io"})
      if (offered.find(p) != std::string::npos) {
        proto_ = p;
        break;
      }
    if (proto_.empty()) return reject(http::status::bad_request, "no supported protocol in " + offered);
    req_info_ = std::move(*r);
    http_.expires_never();
    ws_.emplace(std::move(http_));
    ws_->binary(true);
    ws_->set_option(websocket::stream_base::decorator(
        [p = proto_](websocket::response_type& res) { res.set(http::field::sec_websocket_protocol, p); }));
    ws_->set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_->async_accept(req_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      // stdin's pipe before the first frame is read: input sent at once is not lost.
      auto in = Pipe::make();
      if (!in) return self->close();
      self->in_rd_ = std::move(in->rd);
      if (self->req_info_.in) {  // else its end closes now: end of input at once
        std::thread([self, fd = std::move(in->wr)]() mutable { self->write_stdin(std::move(fd)); }).detach();
      }
      self->read_next();
      self->start_worker();
    });
  }

  void read_next() {
    ws_->async_read(in_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_gone();
      std::string msg = beast::buffers_to_string(self->in_.data());
      self->in_.consume(self->in_.size());
      self->on_message(msg);
      self->read_next();
    });
  }

  void on_message(const std::string& msg) {
    if (msg.empty()) return;
    auto channel = static_cast<unsigned char>(msg[0]);
    std::string_view data(msg.data() + 1, msg.size() - 1);
    if (channel == kStdin) {
      std::lock_guard lock(stdin_mu_);
      stdin_queue_.emplace_back(data);
      stdin_cv_.notify_one();
    } else if (channel == kClose && !data.empty() && static_cast<unsigned char>(data[0]) == kStdin) {
      end_stdin();
    } else if (channel == kResize) {
      json size = json::parse(data, nullptr, false);
      if (size.is_discarded()) return;
      auto cols = size.value("Width", 0), rows = size.value("Height", 0);
      if (cols <= 0 || rows <= 0) return;
      if (int fd = pty_.load(); fd >= 0) {
        winsize ws{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols), 0, 0};
        ::ioctl(fd, TIOCSWINSZ, &ws);
      } else if (req_info_.kind == StreamRequest::Kind::attach && req_info_.tty) {
        (void)core_->rt.resize_container(req_info_.container_id, static_cast<unsigned short>(rows),
                                         static_cast<unsigned short>(cols));
      }
    }
  }

  void on_gone() {
    gone_ = true;
    closed_ = true;
    end_stdin();
  }

  void end_stdin() {
    std::lock_guard lock(stdin_mu_);
    stdin_eof_ = true;
    stdin_cv_.notify_one();
  }

  // The client's input into the process, on a thread of its own: one that reads slowly (or not at
  // all) holds up only its own stream. Ends (closing the pipe) at the client's end of input.
  void write_stdin(UniqueFd fd) {
    for (;;) {
      std::string chunk;
      {
        std::unique_lock lock(stdin_mu_);
        stdin_cv_.wait(lock, [&] { return !stdin_queue_.empty() || stdin_eof_; });
        if (stdin_queue_.empty()) return;
        chunk = std::move(stdin_queue_.front());
        stdin_queue_.pop_front();
      }
      std::string_view data(chunk);
      while (!data.empty()) {
        ssize_t n = ::write(fd.get(), data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;  // the process has gone (EPIPE): the rest is dropped
        data.remove_prefix(static_cast<size_t>(n));
      }
    }
  }

  void write_next() {
    ws_->async_write(asio::buffer(out_.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->on_gone();
      self->out_.pop_front();
      if (!self->out_.empty()) return self->write_next();
      if (self->closing_) self->close();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    ws_->async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
  }

  // The runtime call, on a thread of its own (it blocks until the process or container ends).
  void start_worker() {
    std::thread([self = shared_from_this()] {
      int code = self->work();
      self->finish(code);
    }).detach();
  }

  int work() {
    const auto& r = req_info_;
    auto out = Pipe::make();
    auto err = Pipe::make();
    if (!out || !err) return 126;
    UniqueFd in_rd = std::move(in_rd_);
    auto forward = [this](unsigned char channel, bool wanted) {
      return [this, channel, wanted](std::string data) {
        if (wanted) send(channel, std::move(data));
      };
    };
    if (r.kind == StreamRequest::Kind::exec) {
      ExecOptions opts;
      opts.args = r.cmd;
      opts.tty = r.tty;
      if (r.tty) {
        UniqueFd out_wr = std::move(out->wr);
        std::thread reader([fd = out->rd.get(), f = forward(kStdout, r.out)] { pump(fd, f); });
        TerminalIo io{.in_fd = in_rd.get(), .out_fd = out_wr.get()};
        io.on_pty = [this](int fd) { pty_ = fd; };
        auto ran = core_->rt.exec_interactive(r.container_id, opts, io);
        out_wr.reset();
        reader.join();
        if (!ran) {
          send(kStderr, ran.error().message + "\n");
          return 126;
        }
        return *ran;
      }
      opts.stdin_fd = r.in ? in_rd.get() : -1;
      int code = 0;
      auto st = core_->rt.exec_stream(r.container_id, opts, [&](const ExecEvent& e) -> zl::Status {
        if (gone_) return unavailable("the client has gone");
        if (e.kind == ExecEvent::Kind::stdout_data && r.out) send(kStdout, e.data);
        if (e.kind == ExecEvent::Kind::stderr_data && r.err) send(kStderr, e.data);
        if (e.kind == ExecEvent::Kind::exit) code = e.exit_code;
        return {};
      });
      if (!st) {
        send(kStderr, st.error().message + "\n");
        return 126;
      }
      return code;
    }
    // Attach: the container's stdio until it exits (or the client goes).
    UniqueFd out_wr = std::move(out->wr), err_wr = std::move(err->wr);
    std::thread out_reader([fd = out->rd.get(), f = forward(kStdout, r.out)] { pump(fd, f); });
    std::thread err_reader([fd = err->rd.get(), f = forward(kStderr, r.err)] { pump(fd, f); });
    AttachIo io{.in_fd = r.in ? in_rd.get() : -1, .out_fd = out_wr.get(), .err_fd = err_wr.get(), .tty = r.tty};
    auto st = core_->rt.attach_container(r.container_id, io);
    out_wr.reset();
    err_wr.reset();
    out_reader.join();
    err_reader.join();
    if (!st) {
      send(kStderr, st.error().message + "\n");
      return 1;
    }
    return 0;
  }

  std::shared_ptr<StreamServer::Core> core_;
  beast::tcp_stream http_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  std::optional<websocket::stream<beast::tcp_stream>> ws_;
  beast::flat_buffer in_;
  std::string proto_;
  StreamRequest req_info_;
  std::deque<std::string> out_;  // frames to write (Asio thread only)
  bool closing_ = false, closed_ = false;
  std::atomic<bool> gone_{false};
  std::atomic<int> pty_{-1};
  std::mutex stdin_mu_;  // guards the three below
  std::condition_variable stdin_cv_;
  std::deque<std::string> stdin_queue_;  // for write_stdin()
  bool stdin_eof_ = false;
  UniqueFd in_rd_;  // its end, until the worker takes it
};

void accept_next(const std::shared_ptr<StreamServer::Core>& core) {
  core->acceptor.async_accept([core](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !core->acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(core, std::move(socket))->run();
    accept_next(core);
  });
}

}  // namespace

StreamServer::StreamServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}
StreamServer::~StreamServer() { shutdown(); }

Result<std::unique_ptr<StreamServer>> StreamServer::start(LinuxRuntime& rt, const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return invalid_argument("streaming address {}: want IP:PORT", address);
  beast::error_code ec;
  auto ip = asio::ip::make_address(address.substr(0, colon), ec);
  if (ec) return invalid_argument("streaming address {}: {}", address, ec.message());
  unsigned port = 0;
  try {
    port = static_cast<unsigned>(std::stoul(address.substr(colon + 1)));
  } catch (...) {
    return invalid_argument("streaming address {}: bad port", address);
  }
  auto core = std::make_shared<Core>(rt);
  tcp::endpoint ep(ip, static_cast<unsigned short>(port));
  core->acceptor.open(ep.protocol(), ec);
  if (!ec) core->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) core->acceptor.bind(ep, ec);
  if (!ec) core->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return unavailable("CRI streaming server on {}: {}", address, ec.message());
  auto bound = core->acceptor.local_endpoint();
  std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  core->base_url = fmt::format("http://{}:{}", host, bound.port());
  accept_next(core);
  core->thread = std::thread([c = core.get()] { c->io.run(); });
  spdlog::info("CRI streaming (exec, attach) on {}", core->base_url);
  return std::unique_ptr<StreamServer>(new StreamServer(std::move(core)));
}

void StreamServer::shutdown() {
  if (!core_ || !core_->thread.joinable()) return;
  asio::post(core_->io, [c = core_] {
    beast::error_code ec;
    c->acceptor.close(ec);
  });
  core_->io.stop();
  core_->thread.join();
}

std::string StreamServer::url_for(StreamRequest req) {
  std::string token = random_hex_id().substr(0, 32);
  const char* kind = req.kind == StreamRequest::Kind::exec ? "exec" : "attach";
  std::lock_guard lock(core_->mu);
  core_->pending[token] = Core::Pending{std::move(req), std::chrono::steady_clock::now() + kTokenLifetime};
  return fmt::format("{}/{}/{}", core_->base_url, kind, token);
}

}  // namespace zl::api::cri
