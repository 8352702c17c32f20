// The embedded DNS server of a network: answers the names of its services and containers from a
// records file (A, and AAAA for IPv6 entries; PTR for their addresses), NXDOMAIN for unknown
// names of the local zone, and forwards every other query to upstream resolvers over UDP (the
// next one on timeout or failure, SERVFAIL when all fail). UDP and TCP on each listen address.
// Everything runs on one Boost.Asio loop: forwarding is asynchronous and never holds up answers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace zl::net {

namespace fs = std::filesystem;

struct DnsEndpoint {
  boost::asio::ip::address address;
  uint16_t port = 53;
  std::string str() const;  // "10.0.0.1:53", "[fd00::1]:53"
  bool operator==(const DnsEndpoint&) const = default;
};

// "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" (a bare IPv6 address takes default_port).
Result<DnsEndpoint> parse_dns_endpoint(std::string_view text, uint16_t default_port = 53);

// The nameservers of a resolv.conf, port 53. Loopback ones (127.0.0.0/8, ::1) are left out
// unless keep_loopback: a server in a container's network namespace cannot reach the host's.
Result<std::vector<DnsEndpoint>> resolv_conf_upstreams(const fs::path& path, bool keep_loopback);

// The records a server answers: canonical name (lower case, no trailing dot) -> addresses.
using DnsRecordMap = std::map<std::string, std::vector<boost::asio::ip::address>>;

// Parses a records file: {"records": {"web": ["10.200.0.5", "10.200.0.6"], ...}}. Names are
// canonicalized; invalid_argument for bad JSON, names or addresses.
Result<DnsRecordMap> parse_dns_records(std::string_view json);

struct DnsServerOptions {
  std::vector<DnsEndpoint> listen;  // UDP and TCP on each
  fs::path records_file;            // re-read when replaced; missing: no records until it appears
  std::vector<DnsEndpoint> upstreams;
  // Unknown names under it are NXDOMAIN and never forwarded. It is also the search domain:
  // "web.service.local" finds a record "web" (and "x.service.local.service.local" one "x.service.local").
  std::string zone = "service.local";
  uint32_t ttl = 5;                                       // of local answers, seconds
  std::chrono::milliseconds upstream_timeout{2000};       // per upstream
  std::chrono::milliseconds tcp_idle_timeout{10000};
  size_t max_forwards = 512;         // forwarded queries in flight; past that: SERVFAIL
  size_t max_tcp_connections = 128;  // past that new connections are closed at once
};

// The server. Its work runs on `loop`, which the caller runs on one thread (the server takes no
// locks); start() and stop() are called from that thread or before the loop runs.
class DnsServer {
 public:
  DnsServer(boost::asio::io_context& loop, DnsServerOptions opts);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Loads the records and binds every listen address (UDP and TCP); fails when one cannot be bound.
  Status start();
  // Closes the listeners and connections; forwards in flight are abandoned.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zl::net
