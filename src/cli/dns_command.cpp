// `zlayer dns-server` (hidden): the embedded DNS server of a network, in the foreground until
// SIGTERM. zlayer starts one per network; its records file is rewritten as containers come and go.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cli/commands.h"
#include "common/fs.h"
#include "net/dns_server.h"

namespace zl::cli {

namespace {

struct DnsArgs {
  std::vector<std::string> listen, upstreams;
  std::string records, pid_file, zone = "service.local", resolv_conf = "/etc/resolv.conf";
  bool keep_loopback = false;
  bool daemonize = false;
  std::string log_file;
  uint32_t ttl = 5;
  unsigned timeout_ms = 2000;
};

// Removes the pid file when the server ends.
struct PidFile {
  fs::path path;
  ~PidFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

Result<int> dns_server(const DnsArgs& a) {
  net::DnsServerOptions o;
  for (const auto& l : a.listen) {
    ZL_TRY_ASSIGN(auto ep, net::parse_dns_endpoint(l));
    o.listen.push_back(ep);
  }
  for (const auto& u : a.upstreams) {
    ZL_TRY_ASSIGN(auto ep, net::parse_dns_endpoint(u));
    o.upstreams.push_back(ep);
  }
  if (a.upstreams.empty()) {
    auto from_host = net::resolv_conf_upstreams(a.resolv_conf, a.keep_loopback);
    if (!from_host) return tl::unexpected(from_host.error().wrap("dns-server: upstreams"));
    o.upstreams = std::move(*from_host);
    if (o.upstreams.empty())
      spdlog::warn("dns upstreams: {} names no usable nameserver{}: names outside the records get SERVFAIL",
                   a.resolv_conf,
                   a.keep_loopback ? "" : " (loopback ones are skipped without --keep-loopback-upstreams)");
  }
  o.records_file = a.records;
  o.zone = a.zone;
  o.ttl = a.ttl;
  o.upstream_timeout = std::chrono::milliseconds(a.timeout_ms);

  boost::asio::io_context loop;
  net::DnsServer server(loop, std::move(o));
  ZL_TRY(server.start());
  if (a.daemonize) {
    // Serving from here on in a process of its own session; the caller returns once the sockets
    // are bound (and the pid file written), which is its readiness signal.
    loop.notify_fork(boost::asio::execution_context::fork_prepare);
    pid_t child = ::fork();
    if (child < 0) return errno_error(errno, "dns-server: fork");
    if (child > 0) {
      Status written = a.pid_file.empty()
                           ? Status{}
                           : write_file_atomic(a.pid_file, fmt::format("{}\n", child), 0644, Sync::atomic);
      ::_exit(written ? 0 : 1);
    }
    loop.notify_fork(boost::asio::execution_context::fork_child);
    ::setsid();
    // Nobody waits on our stdio any more: it goes to the log file (or nowhere).
    int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = ::open(a.log_file.empty() ? "/dev/null" : a.log_file.c_str(),
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) ::dup2(out, 1), ::dup2(out, 2);
  }
  PidFile pid;
  if (!a.pid_file.empty()) {
    if (!a.daemonize)
      ZL_TRY(write_file_atomic(a.pid_file, fmt::format("{}\n", ::getpid()), 0644, Sync::atomic));
    pid.path = a.pid_file;
  }
  boost::asio::signal_set signals(loop, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("dns server: signal {}: stopping", sig);
    server.stop();
    loop.stop();
  });
  // A network's server goes with its network: once the records file's directory is gone (network
  // removed, or the whole root), there is nothing left to answer for.
  boost::asio::steady_timer watch(loop);
  fs::path records_dir = fs::path(a.records).parent_path();
  std::function<void()> check = [&] {
    watch.expires_after(std::chrono::seconds(2));
    watch.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (!a.records.empty() && !fs::exists(records_dir)) {
        spdlog::info("dns server: {} is gone: stopping", records_dir.string());
        server.stop();
        loop.stop();
        return;
      }
      check();
    });
  };
  check();
  ::signal(SIGPIPE, SIG_IGN);
  loop.run();
  return 0;
}

}  // namespace

void add_dns_command(CLI::App& app, Context&) {
  auto a = std::make_shared<DnsArgs>();
  auto* cmd =
      app.add_subcommand("dns-server", "Run a network's DNS server in the foreground (used by zlayer)");
  cmd->group("");  // hidden: zlayer starts it, people do not
  cmd->add_option("--listen", a->listen, "IP:PORT to answer on, UDP and TCP (repeatable)")->required();
  cmd->add_option("--records", a->records, "JSON file of names and addresses, re-read when replaced")
      ->required();
  cmd->add_option("--upstream", a->upstreams,
                  "Resolver IP[:PORT] for other names (repeatable; default: resolv.conf's)");
  cmd->add_option("--resolv-conf", a->resolv_conf, "Where the default upstreams come from")
      ->capture_default_str();
  cmd->add_flag("--keep-loopback-upstreams", a->keep_loopback,
                "Keep resolv.conf's 127.0.0.0/8 and ::1 nameservers (when the server runs in the host's "
                "network namespace)");
  cmd->add_option("--zone", a->zone, "Local zone: unknown names under it are NXDOMAIN")
      ->capture_default_str();
  cmd->add_option("--ttl", a->ttl, "TTL of local answers, seconds")->capture_default_str();
  cmd->add_option("--upstream-timeout-ms", a->timeout_ms, "Wait for each upstream")->capture_default_str();
  cmd->add_option("--pid-file", a->pid_file, "Write the server's pid here (removed on exit)");
  cmd->add_flag("--daemonize", a->daemonize, "Serve in the background once the sockets are bound");
  cmd->add_option("--log-file", a->log_file, "With --daemonize: where its log goes (default: nowhere)");
  cmd->callback(run([a] { return dns_server(*a); }));
}

}  // namespace zl::cli
