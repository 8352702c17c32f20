#include "net/dns_launcher.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/subprocess.h"
#include "net/ipv4.h"

namespace zl::net {

namespace {

fs::path pid_file(const NetworkStore& store, const std::string& network) {
  return store.network_dir(network) / "dns.pid";
}

// The pid of the network's running server, or 0.
int running_server(const NetworkStore& store, const std::string& network) {
  auto text = read_file(pid_file(store, network));
  if (!text) return 0;
  int pid = std::atoi(text->c_str());
  if (pid <= 0 || ::kill(pid, 0) != 0) return 0;
  // A recycled pid is somebody else's: ours runs dns-server on this network's records file.
  auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (!cmdline || cmdline->find("dns-server") == std::string::npos ||
      cmdline->find(store.dns_file(network).string()) == std::string::npos)
    return 0;
  return pid;
}

}  // namespace

Result<std::string> ensure_dns_server(const NetworkStore& store, const NetworkRecord& n) {
  std::string gateway = format_ipv4(n.gateway);
  if (running_server(store, n.name)) return gateway;
  char exe[4096] = {};
  ssize_t len = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return errno_error(errno, "find the zlayer binary for the DNS server");
  fs::path records = store.dns_file(n.name);
  if (!fs::exists(records)) ZL_TRY(write_file_atomic(records, "{\"records\": {}}\n", 0644, Sync::atomic));
  SubprocessOptions o;
  o.timeout = std::chrono::seconds(10);
  auto r = run_process(
      {std::string(exe, static_cast<size_t>(len)), "dns-server", "--daemonize", "--listen", gateway + ":53",
       "--records", records.string(), "--keep-loopback-upstreams", "--pid-file",
       pid_file(store, n.name).string(), "--log-file", (store.network_dir(n.name) / "dns.log").string()},
      o);
  if (!r) return tl::unexpected(r.error().wrap("start the DNS server of network " + n.name));
  if (r->exit_code != 0)
    return unavailable("start the DNS server of network {}: {}", n.name, r->err.empty() ? r->out : r->err);
  spdlog::debug("network={} dns server on {}:53", n.name, gateway);
  return gateway;
}

void stop_dns_server(const NetworkStore& store, const std::string& network) {
  if (int pid = running_server(store, network)) ::kill(pid, SIGTERM);
}

}  // namespace zl::net
