// The agent's commands: `zlayer daemon` runs it; deploy, status, scale, undeploy and service
// logs talk to it over its unix socket.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "agent/service_manager.h"
#include "agent/state_db.h"
#include "api/cri/cri_server.h"
#include "api/docker/docker_api.h"
#include "api/http_server.h"
#include "api/rest_api.h"
#include "cli/commands.h"
#include "cli/daemon_client.h"
#include "cli/format.h"
#include "common/fs.h"
#include "spec/duration.h"

namespace zl::cli {

using nlohmann::json;

namespace {

struct DaemonArgs {
  std::string socket;
  std::string docker_socket;  // empty: <root>/run/docker.sock; "none": no Docker API
  std::string cri_socket;     // empty: no CRI server
  std::string cri_pause_image = api::kDefaultPauseImage;
  std::string cri_stream_address = "127.0.0.1:0";
  size_t workers = 16;
  double body_timeout_s = 60;  // a request body that does not arrive in time drops its connection
  // The TLS listener: all four, or none (then there is no TCP listener at all).
  std::string tls_listen, tls_cert, tls_key, tls_ca;
};

// The TLS listener's options, when --tls-listen is given; the four flags go together.
Result<std::optional<api::TlsListenOptions>> tls_listen_options(const DaemonArgs& a) {
  std::vector<std::string> given, missing;
  for (const auto& [flag, value] : {std::pair<const char*, const std::string&>{"--tls-listen", a.tls_listen},
                                    {"--tls-cert", a.tls_cert},
                                    {"--tls-key", a.tls_key},
                                    {"--tls-ca", a.tls_ca}})
    (value.empty() ? missing : given).push_back(flag);
  if (given.empty()) return std::nullopt;
  if (!missing.empty())
    return invalid_argument(
        "--tls-listen, --tls-cert, --tls-key and --tls-ca go together (the TCP listener requires client "
        "certificates): missing {}",
        fmt::join(missing, ", "));
  return api::TlsListenOptions{.listen = a.tls_listen, .cert = a.tls_cert, .key = a.tls_key, .ca = a.tls_ca};
}

Result<int> daemon(Context& ctx, const DaemonArgs& a) {
  if (::geteuid() != 0) return permission_denied("zlayer daemon must run as root");
  ZL_TRY_ASSIGN(auto tls, tls_listen_options(a));
  if (!ctx.debug) spdlog::set_level(spdlog::level::info);  // a daemon's log says what it does
  // One malloc arena: the pool's threads would otherwise each grow their own (RSS for nothing;
  // they wait on processes far more than on each other's allocations).
  ::mallopt(M_ARENA_MAX, 1);
  ZL_TRY_ASSIGN(ImageStore * store, ctx.store());
  ZL_TRY_ASSIGN(LinuxRuntime * rt, ctx.runtime());
  ZL_TRY_ASSIGN(auto oci, rt->oci_runtime());  // chosen once, before any thread needs it
  spdlog::info("zlayer daemon {}: root {}, OCI runtime {} ({})", ZLAYER_VERSION, ctx.root, oci.name,
               oci.path);
  ZL_TRY_ASSIGN(auto db, StateDb::open(fs::path(ctx.root) / "agent" / "state.db"));

  std::string socket = a.socket.empty() ? daemon_socket_path(ctx.root) : a.socket;
  ZL_TRY(make_dirs(fs::path(socket).parent_path(), 0711));

  boost::asio::io_context loop;
  boost::asio::thread_pool pool(a.workers);
  ServiceManagerOptions mo;
  mo.registry = ctx.registry_options();
  ServiceManager agent(*rt, *store, *db, pool, mo);
  api::ApiLatency latency;

  api::ServerOptions so;
  so.socket_path = socket;
  so.body_timeout = std::chrono::milliseconds(static_cast<int64_t>(a.body_timeout_s * 1000));
  so.on_done = [&latency](const api::Request& req, std::string_view route, int status,
                          std::chrono::microseconds took) {
    latency.observe(std::string(route), req.method, status, took);
    spdlog::debug("api {} {} -> {} in {}us", req.method, req.target, status, took.count());
  };
  api::HttpServer server(loop, pool, api::make_rest_router({agent, *rt, *store, latency}), so);
  ZL_TRY(server.listen());
  // The same API on TCP, only with TLS and client certificates, and only when asked for.
  std::optional<api::HttpServer> tls_server;
  if (tls) {
    api::ServerOptions tso = so;
    tso.tls = *tls;
    tls_server.emplace(loop, pool, api::make_rest_router({agent, *rt, *store, latency}), tso);
    ZL_TRY(tls_server->listen());
  }

  // The Docker Engine API on its own socket, over the same runtime and image store.
  std::string docker_socket =
      a.docker_socket.empty() ? (fs::path(ctx.root) / "run" / "docker.sock").string() : a.docker_socket;
  std::optional<api::HttpServer> docker;
  if (docker_socket != "none") {
    api::ServerOptions dso;
    dso.socket_path = docker_socket;
    dso.body_timeout = so.body_timeout;
    // (Image archives and `docker cp` uploads are streamed: the buffered bodies are JSON.)
    dso.prepare = api::strip_docker_version;
    dso.on_done = so.on_done;
    docker.emplace(loop, pool, api::make_docker_router({*rt, *store, ctx.registry_options(), ctx.root}), dso);
    ZL_TRY(docker->listen());
  }
  // The Kubernetes CRI (gRPC, its own threads) over the same runtime and image store.
  std::unique_ptr<api::CriServer> cri;
  if (!a.cri_socket.empty()) {
    ZL_TRY_ASSIGN(cri, api::load_cri_server({*rt, *store, ctx.registry_options(), ctx.root, a.cri_pause_image,
                                              a.cri_stream_address},
                                             a.cri_socket));
  }
  ZL_TRY(agent.start());
  spdlog::info("listening on {}{}{}", socket,
               docker ? " and " + docker_socket + " (Docker API " + api::kDockerApiVersion + ")" : "",
               tls_server ? " and " + tls_server->address() + " (TLS, client certificates required)" : "");

  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    spdlog::info("signal {}: shutting down (containers keep running)", sig);
    server.close();
    if (tls_server) tls_server->close();
    if (docker) docker->close();
    if (cri) cri->shutdown();
    loop.stop();
  });
  ::signal(SIGPIPE, SIG_IGN);
  loop.run();
  agent.stop();
  pool.stop();  // followed logs and the like end with the process
  pool.join();
  return 0;
}

Result<DaemonClient> client(Context& ctx) {
  return DaemonClient::connect(ctx.root, ctx.daemon);
}

std::string replicas_cell(const json& s) {
  const auto& r = s["replicas"];
  return fmt::format("{}/{}/{}", r["desired"].get<int64_t>(), r["running"].get<int64_t>(),
                     r["healthy"].get<int64_t>());
}

void print_status(const json& deployments) {
  Table t({"DEPLOYMENT", "SERVICE", "TYPE", "PHASE", "REPLICAS (want/run/ok)", "RESTARTS", "MESSAGE"});
  for (const auto& d : deployments) {
    for (const auto& s : d["services"]) {
      std::string msg = s["message"].get<std::string>();
      if (msg.empty()) msg = s["last_error"].get<std::string>();
      if (msg.size() > 70) msg = msg.substr(0, 67) + "...";
      t.add({d["name"].get<std::string>(), s["name"].get<std::string>(), s["rtype"].get<std::string>(),
             s["phase"].get<std::string>(), replicas_cell(s), std::to_string(s["restarts"].get<int64_t>()),
             msg});
    }
  }
  std::cout << t.str();
}

// Settled: every service is running with its replicas healthy, or a job completed. A failed
// service ends the wait at once (the daemon keeps retrying what can be retried).
bool settled(const json& d, bool& failed) {
  failed = false;
  for (const auto& s : d["services"]) {
    std::string phase = s["phase"];
    if (phase == "failed") {
      failed = true;
      return true;
    }
    if (phase == "completed" || phase == "scheduled") continue;
    const auto& r = s["replicas"];
    if (phase != "running" || r["healthy"] != r["desired"]) return false;
  }
  return true;
}

struct DeployArgs {
  std::string file;
  bool wait = false;
  std::string timeout = "5m";
  std::string format;
};

Result<int> deploy(Context& ctx, const DeployArgs& a) {
  ZL_TRY_ASSIGN(auto yaml, read_file(a.file));
  ZL_TRY_ASSIGN(auto c, client(ctx));
  ZL_TRY_ASSIGN(auto st, c.post("/v1/deployments", yaml, "application/yaml", {{"X-Zlayer-File", a.file}}));
  std::string name = st["name"];
  int code = 0;
  if (a.wait) {
    ZL_TRY_ASSIGN(auto timeout, spec::parse_duration(a.timeout));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool failed = false;
    while (true) {
      ZL_TRY_ASSIGN(st, c.get("/v1/deployments/" + HttpClient::url_encode(name)));
      if (settled(st, failed)) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        std::cerr << "zlayer: deployment " << name << " did not settle within " << a.timeout << "\n";
        code = 1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (failed) code = 1;
  }
  if (a.format == "json")
    std::cout << st.dump(2) << "\n";
  else
    print_status(json::array({st}));
  return code;
}

struct StatusArgs {
  std::string deployment, format;
};

Result<int> status(Context& ctx, const StatusArgs& a) {
  ZL_TRY_ASSIGN(auto c, client(ctx));
  json out;
  if (a.deployment.empty()) {
    ZL_TRY_ASSIGN(out, c.get("/v1/deployments"));
  } else {
    ZL_TRY_ASSIGN(auto d, c.get("/v1/deployments/" + HttpClient::url_encode(a.deployment)));
    out = json::array({d});
  }
  if (a.format == "json")
    std::cout << (a.deployment.empty() ? out : out[0]).dump(2) << "\n";
  else
    print_status(out);
  return 0;
}

Result<std::pair<std::string, std::string>> resolve_service(DaemonClient& c, const std::string& ref) {
  ZL_TRY_ASSIGN(auto found, c.get("/v1/services/" + HttpClient::url_encode(ref)));
  return std::pair<std::string, std::string>{found["deployment"], found["service"]};
}

std::string service_path(const std::pair<std::string, std::string>& s) {
  return "/v1/deployments/" + HttpClient::url_encode(s.first) + "/services/" +
         HttpClient::url_encode(s.second);
}

struct ScaleArgs {
  std::string service;
  int64_t replicas = 0;
};

Result<int> scale(Context& ctx, const ScaleArgs& a) {
  ZL_TRY_ASSIGN(auto c, client(ctx));
  ZL_TRY_ASSIGN(auto svc, resolve_service(c, a.service));
  ZL_TRY_ASSIGN(auto st, c.post(service_path(svc) + "/scale", json{{"replicas", a.replicas}}.dump()));
  print_status(json::array({st}));
  return 0;
}

Result<int> undeploy(Context& ctx, const std::string& name) {
  ZL_TRY_ASSIGN(auto c, client(ctx));
  ZL_TRY(c.del("/v1/deployments/" + HttpClient::url_encode(name)));
  std::cout << name << "\n";
  return 0;
}

Result<int> restart_service(Context& ctx, const std::string& ref) {
  ZL_TRY_ASSIGN(auto c, client(ctx));
  ZL_TRY_ASSIGN(auto svc, resolve_service(c, ref));
  ZL_TRY(c.post(service_path(svc) + "/restart", ""));
  std::cout << svc.first << "/" << svc.second << "\n";
  return 0;
}

}  // namespace

Result<int> service_logs(Context& ctx, const std::string& ref, bool follow, bool timestamps,
                         std::optional<size_t> tail) {
  ZL_TRY_ASSIGN(auto c, client(ctx));
  ZL_TRY_ASSIGN(auto svc, resolve_service(c, ref));
  std::string path = service_path(svc) + "/logs?follow=" + (follow ? "1" : "0");
  if (tail) path += "&tail=" + std::to_string(*tail);
  std::string pending;
  return c
      .stream(path,
              [&](std::string_view chunk) -> Status {
                pending.append(chunk);
                size_t nl;
                while ((nl = pending.find('\n')) != std::string::npos) {
                  json line = json::parse(pending.substr(0, nl), nullptr, false);
                  pending.erase(0, nl + 1);
                  if (line.is_discarded()) continue;
                  auto& os = line["stream"] == "stderr" ? std::cerr : std::cout;
                  os << line["container"].get<std::string>() << " | ";
                  if (timestamps) os << line["time"].get<int64_t>() << " ";
                  os << line["text"].get<std::string>() << std::flush;
                }
                return {};
              })
      .map([] { return 0; });
}

void add_agent_commands(CLI::App& app, Context& ctx) {
  auto da = std::make_shared<DaemonArgs>();
  auto* d = app.add_subcommand("daemon", "Run the agent: keep deployed services running, serve the API");
  d->add_option("--socket", da->socket, "API socket (default <root>/run/zlayer.sock)");
  d->add_option("--docker-socket", da->docker_socket,
                "Docker Engine API socket (default <root>/run/docker.sock; none: off)");
  d->add_option("--cri-socket", da->cri_socket,
                "Serve the Kubernetes CRI (runtime.v1, gRPC) on this unix socket (default: off)");
  d->add_option("--cri-pause-image", da->cri_pause_image, "The image a CRI pod sandbox runs (pulled when missing)")
      ->capture_default_str();
  d->add_option("--cri-stream-address", da->cri_stream_address,
                "IP:PORT of the CRI streaming server (Exec, Attach; port 0: any free one)")
      ->capture_default_str();
  d->add_option("--workers", da->workers, "Threads for API requests and container operations")
      ->capture_default_str();
  d->add_option("--request-body-timeout", da->body_timeout_s,
                "Seconds a request body may take to arrive (or, streamed, stall) before its connection is dropped")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  d->add_option("--tls-listen", da->tls_listen,
                "Also serve the API on IP:PORT over TLS, to clients with a certificate the --tls-ca signed "
                "(default: no TCP listener)");
  d->add_option("--tls-cert", da->tls_cert, "The TLS listener's certificate (PEM)");
  d->add_option("--tls-key", da->tls_key, "Its private key (PEM, readable by root only)");
  d->add_option("--tls-ca", da->tls_ca, "CA (PEM) whose client certificates are accepted");
  d->callback(run([&ctx, da] { return daemon(ctx, *da); }));

  auto dep = std::make_shared<DeployArgs>();
  auto* p = app.add_subcommand("deploy", "Create or update a deployment from a *.zlayer.yml spec");
  p->add_option("file", dep->file, "Deployment spec (ZLayer v1 YAML)")->required();
  p->add_flag("--wait", dep->wait, "Wait until every service runs healthy (or a job is done)");
  p->add_option("--timeout", dep->timeout, "How long --wait waits")->capture_default_str();
  p->add_option("--format", dep->format, "json for the full status");
  p->callback(run([&ctx, dep] { return deploy(ctx, *dep); }));

  auto sa = std::make_shared<StatusArgs>();
  auto* s = app.add_subcommand("status", "Show deployments: services, replicas, restarts, errors");
  s->add_option("deployment", sa->deployment);
  s->add_option("--format", sa->format, "json for the full status");
  s->callback(run([&ctx, sa] { return status(ctx, *sa); }));

  auto sc = std::make_shared<ScaleArgs>();
  auto* c = app.add_subcommand("scale", "Set the number of replicas of a service");
  c->add_option("service", sc->service, "SERVICE or DEPLOYMENT/SERVICE")->required();
  c->add_option("replicas", sc->replicas)->required();
  c->callback(run([&ctx, sc] { return scale(ctx, *sc); }));

  auto un = std::make_shared<std::string>();
  auto* u = app.add_subcommand("undeploy", "Stop and remove a deployment's containers and forget it");
  u->add_option("deployment", *un)->required();
  u->callback(run([&ctx, un] { return undeploy(ctx, *un); }));

  auto rs = std::make_shared<std::string>();
  auto* r = app.add_subcommand("restart-service", "Restart a service's replicas one at a time");
  r->add_option("service", *rs, "SERVICE or DEPLOYMENT/SERVICE")->required();
  r->callback(run([&ctx, rs] { return restart_service(ctx, *rs); }));
}

}  // namespace zl::cli
