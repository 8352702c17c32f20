// Docker API: exec — create (POST /containers/{id}/exec), start (attached over a hijacked
// connection, or detached), inspect. Exec instances live in memory, as in docker.
#include <sys/ioctl.h>

#include <boost/asio/write.hpp>
#include <mutex>
#include <thread>

#include "api/docker/docker_api.h"
#include "api/docker/stream.h"
#include "common/digest.h"

namespace zl::api::docker {

using nlohmann::json;

namespace {

struct ExecInstance {
  std::string id, container_id;
  ExecOptions opts;
  bool attach_stdin = false;
  bool running = false;
  std::optional<int> exit_code;
  int pty_master = -1;  // while an interactive one runs: where resizes go
  std::optional<winsize> size;  // the last one asked for (the CLI may ask before the pty exists)
};

class ExecTable {
 public:
  std::string add(ExecInstance e) {
    std::lock_guard lock(mu_);
    e.id = sha256_of(e.container_id + std::to_string(++counter_) +
                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
               .hex();
    std::string id = e.id;
    table_[id] = std::move(e);
    return id;
  }
  std::optional<ExecInstance> get(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = table_.find(id);
    if (it == table_.end()) return std::nullopt;
    return it->second;
  }
  void update(const std::string& id, const std::function<void(ExecInstance&)>& fn) {
    std::lock_guard lock(mu_);
    if (auto it = table_.find(id); it != table_.end()) fn(it->second);
  }

 private:
  std::mutex mu_;
  uint64_t counter_ = 0;
  std::map<std::string, ExecInstance> table_;
};

}  // namespace

void add_exec_routes(Router& r, const std::shared_ptr<DockerApiDeps>& d) {
  auto table = std::make_shared<ExecTable>();
  auto& rt = d->runtime;

  r.add("POST", "/containers/{id}/exec", [table, &rt](Request& req, Responder& res) {
    auto c = rt.inspect_container(req.params["id"]);
    if (!c) return send_error(res, Error{c.error().kind, "No such container: " + req.params["id"]});
    if (c->status != ContainerStatus::running)
      return send_error(res, Error{ErrorKind::conflict, fmt::format("Container {} is not running", c->id)});
    json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("Cmd") || !body["Cmd"].is_array() || body["Cmd"].empty())
      return send_error(res, Error{ErrorKind::invalid_argument, "No exec command specified"});
    ExecInstance e;
    e.container_id = c->id;
    try {
      e.opts.args = body["Cmd"].get<std::vector<std::string>>();
      if (body.contains("Env") && body["Env"].is_array())
        e.opts.env = body["Env"].get<std::vector<std::string>>();
      e.opts.workdir = body.value("WorkingDir", "");
      e.opts.user = body.value("User", "");
      e.opts.tty = body.value("Tty", false);
      e.attach_stdin = body.value("AttachStdin", false);
    } catch (const json::exception& ex) {
      return send_error(res,
                        Error{ErrorKind::invalid_argument, std::string("bad exec config: ") + ex.what()});
    }
    send_json(res, 201, {{"Id", table->add(std::move(e))}});
  });

  r.add("POST", "/exec/{id}/start", [table, &rt](Request& req, Responder& res) {
    auto e = table->get(req.params["id"]);
    if (!e) return send_error(res, Error{ErrorKind::not_found, "No such exec instance: " + req.params["id"]});
    if (e->running || e->exit_code)
      return send_error(res, Error{ErrorKind::conflict, "exec " + e->id + " has already been started"});
    json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    bool detach = body.is_object() && body.value("Detach", false);
    std::string id = e->id;
    table->update(id, [](ExecInstance& x) { x.running = true; });
    auto finish = [table, id](int code) {
      table->update(id, [code](ExecInstance& x) {
        x.running = false;
        x.exit_code = code;
      });
    };
    if (detach) {
      std::thread([&rt, e = *e, finish] {
        auto r = rt.exec(e.container_id, e.opts);
        finish(r ? r->exit_code : 126);
      }).detach();
      return res.send(200, "", "");
    }
    bool tty = e->opts.tty;
    std::string pending;
    std::optional<UnixSocket> sock;
    bool upgraded = req.header("Upgrade").has_value();
    if (upgraded) {
      auto hijacked = hijack(res, tty, pending);
      if (!hijacked) return finish(126);  // answered already
      sock.emplace(std::move(*hijacked));
    } else
      res.begin_stream(
          200, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream");
    auto send = [&](StreamKind kind, const std::string& data) {
      std::string out = tty ? data : frame(kind, data);
      if (!sock) return res.write(out);
      boost::system::error_code ec;
      boost::asio::write(*sock, boost::asio::buffer(out), ec);
      return !ec;
    };
    int code = 126;
    if (tty && e->attach_stdin && sock) {
      // exec -it: the pty between the process and the hijacked connection, both ways.
      boost::system::error_code ec;
      sock->native_non_blocking(false, ec);
      TerminalIo io{.in_fd = sock->native_handle(), .out_fd = sock->native_handle()};
      io.on_pty = [table, id](int master) {
        table->update(id, [master](ExecInstance& x) {
          x.pty_master = master;
          if (master >= 0 && x.size) ::ioctl(master, TIOCSWINSZ, &*x.size);
        });
      };
      auto ran = rt.exec_interactive(e->container_id, e->opts, io);
      if (!ran) send(StreamKind::stderr_stream, ran.error().message + "\r\n");
      finish(ran ? *ran : ran.error().kind == ErrorKind::not_found ? 127 : 126);
      sock->shutdown(UnixSocket::shutdown_both, ec);
      return;
    }
    ExecOptions opts = e->opts;
    if (e->attach_stdin && sock) {  // exec -i: the process reads the client's raw input itself
      boost::system::error_code ec;
      sock->native_non_blocking(false, ec);
      opts.stdin_fd = sock->native_handle();
    }
    auto st = rt.exec_stream(e->container_id, opts, [&](const ExecEvent& ev) -> Status {
      switch (ev.kind) {
        case ExecEvent::Kind::stdout_data:
          send(StreamKind::stdout_stream, ev.data);
          break;
        case ExecEvent::Kind::stderr_data:
          send(StreamKind::stderr_stream, ev.data);
          break;
        case ExecEvent::Kind::exit:
          code = ev.exit_code;
          break;
      }
      return {};
    });
    if (!st) {
      send(StreamKind::stderr_stream, st.error().message + "\n");
      code = st.error().kind == ErrorKind::not_found ? 127 : 126;
    }
    finish(code);
    if (sock) {
      boost::system::error_code ec;
      sock->shutdown(UnixSocket::shutdown_both, ec);
    }
  });

  r.add("GET", "/exec/{id}/json", [table](Request& req, Responder& res) {
    auto e = table->get(req.params["id"]);
    if (!e) return send_error(res, Error{ErrorKind::not_found, "No such exec instance: " + req.params["id"]});
    json args = json::array();
    for (size_t i = 1; i < e->opts.args.size(); ++i) args.push_back(e->opts.args[i]);
    send_json(res, 200,
              {{"ID", e->id},
               {"ContainerID", e->container_id},
               {"Running", e->running},
               {"ExitCode", e->exit_code ? json(*e->exit_code) : json(nullptr)},
               {"OpenStdin", false},
               {"OpenStdout", true},
               {"OpenStderr", true},
               {"ProcessConfig",
                {{"tty", e->opts.tty},
                 {"entrypoint", e->opts.args[0]},
                 {"arguments", args},
                 {"user", e->opts.user}}},
               {"Pid", 0}});
  });
  r.add("POST", "/exec/{id}/resize", [table](Request& req, Responder& res) {
    if (!table->get(req.params["id"]))
      return send_error(res, Error{ErrorKind::not_found, "No such exec instance: " + req.params["id"]});
    winsize ws{};
    try {
      ws.ws_row = static_cast<unsigned short>(std::stoul(req.query["h"]));
      ws.ws_col = static_cast<unsigned short>(std::stoul(req.query["w"]));
    } catch (const std::exception&) {
      return send_error(res, Error{ErrorKind::invalid_argument, "resize needs numbers h and w"});
    }
    // Under the table's lock: the pty is not closed meanwhile (it is told gone first).
    table->update(req.params["id"], [&ws](ExecInstance& x) {
      x.size = ws;
      if (x.pty_master >= 0) ::ioctl(x.pty_master, TIOCSWINSZ, &ws);
    });
    res.send(200, "", "");
  });
}

}  // namespace zl::api::docker
