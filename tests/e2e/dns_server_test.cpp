// `zlayer dns-server` on 127.0.0.1 and a free port, asked by real clients (dig, busybox nslookup):
// local names in rotated order and any case, NXDOMAIN in the local zone, reload of a replaced
// records file, forwarding to an upstream that is a second instance (past dead and silent ones),
// TCP, truncation, and hostile packets that do not take it down. No traffic leaves loopback.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "common/subprocess.h"
#include "net/dns_message.h"

namespace zl::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A UDP socket bound to 127.0.0.1 on a kernel-chosen port.
UniqueFd udp_socket(int* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  if (port) *port = ntohs(addr.sin_port);
  return fd;
}

// A port free on 127.0.0.1 for both UDP and TCP a moment ago.
int free_dns_port() {
  for (int i = 0; i < 50; ++i) {
    int port = 0;
    auto u = udp_socket(&port);
    UniqueFd t(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(uint16_t(port));
    if (u && t && ::bind(t.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return port;
  }
  return 0;
}

// One running `zlayer dns-server`, stopped by SIGTERM (then killed) when it goes away.
class DnsServerProcess {
 public:
  static std::unique_ptr<DnsServerProcess> start(const fs::path& dir, const std::string& name,
                                                 const fs::path& records, std::vector<std::string> extra) {
    auto p = std::unique_ptr<DnsServerProcess>(new DnsServerProcess);
    p->port = free_dns_port();
    p->pid_file = dir / (name + ".pid");
    p->log = dir / (name + ".log");
    std::vector<std::string> argv{ZLAYER_BINARY,
                                  "--debug",
                                  "dns-server",
                                  "--listen",
                                  "127.0.0.1:" + std::to_string(p->port),
                                  "--records",
                                  records.string(),
                                  "--pid-file",
                                  p->pid_file.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    UniqueFd logfd(::open(p->log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    SpawnOptions so;
    so.stdout_fd = so.stderr_fd = logfd.get();
    auto child = Child::spawn(argv, so);
    EXPECT_TRUE(child) << child.error().message;
    if (!child) return nullptr;
    p->child.emplace(std::move(*child));
    auto deadline = Clock::now() + 10s;
    while (!fs::exists(p->pid_file) && Clock::now() < deadline) {
      auto exited = p->child->wait_for(20ms);
      if (exited && *exited) {
        ADD_FAILURE() << name << " exited early: " << p->log_text();
        return nullptr;
      }
    }
    EXPECT_TRUE(fs::exists(p->pid_file)) << p->log_text();
    return p;
  }

  ~DnsServerProcess() {
    if (child) child->signal(SIGKILL);
  }

  // SIGTERM; the exit.
  std::optional<ProcessExit> terminate() {
    child->signal(SIGTERM);
    auto r = child->wait_for(5s);
    return r ? *r : std::nullopt;
  }

  bool running() {
    auto r = child->wait_for(0ms);
    return r && !*r;
  }

  std::string log_text() const {
    std::ifstream in(log);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  int port = 0;
  fs::path pid_file, log;
  std::optional<Child> child;
};

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (find_program("dig").empty())
      GTEST_SKIP() << "dig not installed (bind9-dnsutils: scripts/setup-deps.sh)";
    auto d = TempDir::create(fs::temp_directory_path(), "zlayer-dns-");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    records_ = dir_->path() / "records.json";
    write_records(R"({"records": {
      "web": ["10.200.0.5", "10.200.0.6", "10.200.0.7"],
      "web.service.local": ["10.200.0.5", "10.200.0.6", "10.200.0.7"],
      "1.web.service.local": ["10.200.0.5"],
      "db": ["10.200.0.9"],
      "v6": ["fd00::9"]}})");
  }

  void write_records(const std::string& json) { ASSERT_TRUE(write_file_atomic(records_, json)); }

  std::unique_ptr<DnsServerProcess> start(std::vector<std::string> extra = {},
                                          const std::string& name = "dns", const fs::path& records = {}) {
    return DnsServerProcess::start(dir_->path(), name, records.empty() ? records_ : records,
                                   std::move(extra));
  }

  // dig against a server; the whole output and the exit code.
  SubprocessResult dig(const DnsServerProcess& s, std::vector<std::string> args) {
    std::vector<std::string> argv{"dig", "+time=3", "+tries=1", "-p", std::to_string(s.port), "@127.0.0.1"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_process(argv, {.timeout = 20s});
    EXPECT_TRUE(r);
    return r ? *r : SubprocessResult{};
  }
  std::vector<std::string> short_answer(const DnsServerProcess& s, std::vector<std::string> args) {
    args.push_back("+short");
    auto r = dig(s, std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return lines(r.out);
  }
  static std::string status(const SubprocessResult& r) {
    std::smatch m;
    static const std::regex re("status: ([A-Z]+)");
    return std::regex_search(r.out, m, re) ? m[1].str() : "none: " + r.out + r.err;
  }

  std::optional<TempDir> dir_;
  fs::path records_;
};

TEST_F(DnsServerTest, LocalNamesRotateAndMatchInAnyCase) {
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);
  std::set<std::vector<std::string>> orders;
  std::set<std::string> firsts;
  for (int i = 0; i < 3; ++i) {
    auto a = short_answer(*s, {"web"});
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(std::set<std::string>(a.begin(), a.end()),
              (std::set<std::string>{"10.200.0.5", "10.200.0.6", "10.200.0.7"}));
    orders.insert(a);
    firsts.insert(a[0]);
  }
  EXPECT_EQ(firsts.size(), 3u) << "round-robin: each address comes first once in three queries";

  EXPECT_EQ(short_answer(*s, {"DB"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_EQ(short_answer(*s, {"Db.Service.Local."}), std::vector<std::string>{"10.200.0.9"})
      << "the search domain finds the short name";
  EXPECT_EQ(short_answer(*s, {"1.WEB.service.local"}), std::vector<std::string>{"10.200.0.5"});
  EXPECT_EQ(short_answer(*s, {"1.web.service.local.service.local"}), std::vector<std::string>{"10.200.0.5"})
      << "a resolver that appended the search domain to a full name";

  auto full = dig(*s, {"db", "+noall", "+answer", "+comments"});
  EXPECT_EQ(status(full), "NOERROR");
  EXPECT_NE(full.out.find("flags: qr aa rd ra"), std::string::npos) << full.out;
  EXPECT_TRUE(std::regex_search(full.out, std::regex(R"(db\.\s+5\s+IN\s+A\s+10\.200\.0\.9)"))) << full.out;

  // AAAA of a name with only IPv4 addresses: NOERROR, no answers (NODATA); IPv6 entries answer AAAA.
  auto aaaa = dig(*s, {"web", "AAAA"});
  EXPECT_EQ(status(aaaa), "NOERROR");
  EXPECT_NE(aaaa.out.find("ANSWER: 0"), std::string::npos) << aaaa.out;
  EXPECT_EQ(short_answer(*s, {"v6", "AAAA"}), std::vector<std::string>{"fd00::9"});
  EXPECT_EQ(short_answer(*s, {"db", "ANY"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_EQ(short_answer(*s, {"db", "MX"}), std::vector<std::string>{});

  // Reverse lookups of our addresses: the most specific name.
  EXPECT_EQ(short_answer(*s, {"-x", "10.200.0.5"}), std::vector<std::string>{"1.web.service.local."});

  // Unknown names of the local zone: NXDOMAIN, authoritative, not forwarded (there is no upstream).
  auto nx = dig(*s, {"nope.service.local"});
  EXPECT_EQ(status(nx), "NXDOMAIN") << nx.out;
  EXPECT_NE(nx.out.find(" aa "), std::string::npos) << nx.out;
  EXPECT_EQ(status(dig(*s, {"x.NOPE.Service.Local", "AAAA"})), "NXDOMAIN");
  // Outside it, with no upstream at all: SERVFAIL.
  EXPECT_EQ(status(dig(*s, {"example.org"})), "SERVFAIL");
}

TEST_F(DnsServerTest, TcpQueriesAndTruncationOfLargeUdpAnswers) {
  std::string many = R"({"records": {"many": [)";
  for (int i = 1; i <= 40; ++i) many += (i > 1 ? "," : "") + fmt::format("\"10.200.1.{}\"", i);
  write_records(many + "], \"web\": [\"10.200.0.5\"]}}");
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);

  EXPECT_EQ(short_answer(*s, {"+tcp", "web"}), std::vector<std::string>{"10.200.0.5"});
  EXPECT_EQ(short_answer(*s, {"+tcp", "many"}).size(), 40u);
  // Several queries on one TCP connection (dig keeps it open with +keepopen).
  auto kept = dig(*s, {"+tcp", "+keepopen", "+short", "web", "many", "db"});
  EXPECT_EQ(kept.exit_code, 0) << kept.err;
  EXPECT_EQ(lines(kept.out).size(), 41u) << kept.out;

  // UDP without EDNS0: 512 bytes at most, TC set; dig then retries over TCP and gets all 40.
  auto tc = dig(*s, {"+noedns", "+ignore", "many"});
  EXPECT_NE(tc.out.find(" tc "), std::string::npos) << tc.out;
  EXPECT_EQ(short_answer(*s, {"+noedns", "many"}).size(), 40u);
  // With EDNS0 (dig's default 1232 bytes) they fit in one datagram.
  auto edns = dig(*s, {"+ignore", "many"});
  EXPECT_EQ(edns.out.find(" tc "), std::string::npos) << edns.out;
  EXPECT_NE(edns.out.find("ANSWER: 40"), std::string::npos) << edns.out;
}

TEST_F(DnsServerTest, ReplacedRecordsFileIsReloaded) {
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);
  EXPECT_EQ(short_answer(*s, {"db"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_EQ(status(dig(*s, {"cache.service.local"})), "NXDOMAIN");

  write_records(R"({"records": {"db": ["10.200.0.19"], "cache.service.local": ["10.200.0.30"]}})");
  auto deadline = Clock::now() + 3s;
  std::vector<std::string> got;
  while (Clock::now() < deadline &&
         (got = short_answer(*s, {"db"})) != std::vector<std::string>{"10.200.0.19"})
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(got, std::vector<std::string>{"10.200.0.19"});
  EXPECT_EQ(short_answer(*s, {"cache.service.local"}), std::vector<std::string>{"10.200.0.30"});
  EXPECT_EQ(status(dig(*s, {"web.service.local"})), "NXDOMAIN") << "names gone from the file are gone";

  // A broken file keeps the last good records; the next good one is loaded.
  ASSERT_TRUE(write_file_atomic(records_, "{\"records\": {\"db\": [\"not an ip\"]}}"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(short_answer(*s, {"db"}), std::vector<std::string>{"10.200.0.19"});
  write_records(R"({"records": {"db": ["10.200.0.29"]}})");
  deadline = Clock::now() + 3s;
  while (Clock::now() < deadline &&
         (got = short_answer(*s, {"db"})) != std::vector<std::string>{"10.200.0.29"})
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(got, std::vector<std::string>{"10.200.0.29"});
  EXPECT_NE(s->log_text().find("not loaded"), std::string::npos);
}

TEST_F(DnsServerTest, OtherNamesAreForwardedPastDeadAndSilentUpstreams) {
  // The upstream: a second server, authoritative for example.test.
  auto upstream_records = dir_->path() / "upstream.json";
  std::string many;
  for (int i = 1; i <= 40; ++i) many += fmt::format("{}\"192.0.2.{}\"", i > 1 ? "," : "", i);
  ASSERT_TRUE(write_file_atomic(
      upstream_records,
      R"({"records": {"www.example.test": ["192.0.2.80"], "many.example.test": [)" + many + "]}}"));
  auto up = start({"--zone", "example.test", "--resolv-conf", "/dev/null"}, "upstream", upstream_records);
  ASSERT_TRUE(up);
  // A dead upstream (nothing listens: refused at once) and a silent one (a socket that never answers).
  int dead_port = free_dns_port();
  int silent_port = 0;
  auto silent = udp_socket(&silent_port);
  ASSERT_TRUE(silent);

  auto s = start({"--upstream", "127.0.0.1:" + std::to_string(dead_port), "--upstream",
                  "127.0.0.1:" + std::to_string(silent_port), "--upstream",
                  "127.0.0.1:" + std::to_string(up->port), "--upstream-timeout-ms", "500"});
  ASSERT_TRUE(s);
  auto t0 = Clock::now();
  EXPECT_EQ(short_answer(*s, {"WWW.example.test"}), std::vector<std::string>{"192.0.2.80"});
  EXPECT_LT(Clock::now() - t0, 2500ms);
  auto nx = dig(*s, {"nope.example.test"});
  EXPECT_EQ(status(nx), "NXDOMAIN") << "the upstream's answer is relayed";
  EXPECT_EQ(short_answer(*s, {"+tcp", "www.example.test"}), std::vector<std::string>{"192.0.2.80"})
      << "TCP client";
  // A truncated UDP answer goes to a UDP client as it is (TC set: it retries over TCP); a TCP
  // client's query is asked again of the upstream over TCP.
  auto tc = dig(*s, {"+noedns", "+ignore", "many.example.test"});
  EXPECT_NE(tc.out.find(" tc "), std::string::npos) << tc.out;
  EXPECT_EQ(short_answer(*s, {"+tcp", "+noedns", "many.example.test"}).size(), 40u);
  EXPECT_EQ(short_answer(*s, {"+noedns", "many.example.test"}).size(), 40u);
  // Local names are still ours, and unknown local-zone names never reach the upstream.
  EXPECT_EQ(short_answer(*s, {"db"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_EQ(status(dig(*s, {"www.example.test.service.local"})), "NXDOMAIN");
  EXPECT_EQ(up->log_text().find("service.local"), std::string::npos) << up->log_text();

  // Every upstream failing: SERVFAIL.
  auto lone = start(
      {"--upstream", "127.0.0.1:" + std::to_string(silent_port), "--upstream-timeout-ms", "300"}, "lone");
  ASSERT_TRUE(lone);
  EXPECT_EQ(status(dig(*lone, {"www.example.test"})), "SERVFAIL");
}

TEST_F(DnsServerTest, SlowForwardingDoesNotHoldUpLocalAnswers) {
  int silent_port = 0;
  auto silent = udp_socket(&silent_port);
  ASSERT_TRUE(silent);
  auto s = start({"--upstream", "127.0.0.1:" + std::to_string(silent_port), "--upstream-timeout-ms", "3000"});
  ASSERT_TRUE(s);
  // Queries for outside names pile up waiting for the silent upstream...
  auto out = dir_->path() / "slow.out";
  UniqueFd outfd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  SpawnOptions so;
  so.stdout_fd = outfd.get();
  auto slow = Child::spawn(
      {"dig", "+time=8", "+tries=1", "-p", std::to_string(s->port), "@127.0.0.1", "slow.example.org"}, so);
  ASSERT_TRUE(slow);
  std::this_thread::sleep_for(200ms);
  // ...while local names answer at once.
  auto t0 = Clock::now();
  EXPECT_EQ(short_answer(*s, {"db"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_LT(Clock::now() - t0, 1s);
  auto done = slow->wait();
  ASSERT_TRUE(done);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("status: SERVFAIL"), std::string::npos) << text;
}

TEST_F(DnsServerTest, HostilePacketsDoNotKillTheServer) {
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);
  auto sock = udp_socket(nullptr);
  ASSERT_TRUE(sock);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(uint16_t(s->port));
  auto send = [&](const std::string& p) {
    ::sendto(sock.get(), p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  };
  // A query whose name points at itself: FORMERR, with the id kept.
  std::string loop("\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01", 18);
  send(loop);
  pollfd pfd{sock.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, 3000), 1) << "an answer to a malformed query";
  char buf[600];
  auto n = ::recv(sock.get(), buf, sizeof buf, 0);
  ASSERT_GE(n, 12);
  EXPECT_EQ(uint8_t(buf[0]), 0xab);
  EXPECT_EQ(uint8_t(buf[1]), 0xcd);
  EXPECT_EQ(buf[3] & 0xf, 1) << "FORMERR";

  // Then noise: empty, short, responses, random bytes, corrupted queries.
  send("");
  send("x");
  std::mt19937 rng(7);
  auto q = *net::dns::build_query(1, "web.service.local", net::dns::type::A, 1232);
  for (int i = 0; i < 2000; ++i) {
    std::string p = q;
    if (i % 3 == 0) {
      p.assign(rng() % 600, '\0');
      for (auto& c : p) c = char(rng());
    } else {
      for (int f = 0; f < 3; ++f) p[rng() % p.size()] = char(rng());
    }
    send(p);
  }
  // A TCP connection that sends half a message and one that sends a zero length: both dropped.
  UniqueFd t(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(t.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::send(t.get(), "\x00\x40\x12", 3, MSG_NOSIGNAL), 3);
  UniqueFd z(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(z.get(), reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::send(z.get(), "\x00\x00", 2, MSG_NOSIGNAL), 2);

  EXPECT_TRUE(s->running()) << s->log_text();
  EXPECT_EQ(short_answer(*s, {"db"}), std::vector<std::string>{"10.200.0.9"});
  EXPECT_EQ(short_answer(*s, {"+tcp", "db"}), std::vector<std::string>{"10.200.0.9"});
}

TEST_F(DnsServerTest, BusyboxNslookupAndCleanShutdown) {
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);
  if (!find_program("busybox").empty()) {
    auto r = run_process({"busybox", "nslookup", "-port=" + std::to_string(s->port), "-type=a",
                          "db.service.local", "127.0.0.1"},
                         {.timeout = 20s});
    ASSERT_TRUE(r);
    EXPECT_NE(r->out.find("10.200.0.9"), std::string::npos) << r->out << r->err;
  }
  std::string pid;
  {
    std::ifstream in(s->pid_file);
    in >> pid;
  }
  EXPECT_EQ(pid, std::to_string(s->child->pid()));
  auto exit = s->terminate();
  ASSERT_TRUE(exit);
  EXPECT_EQ(exit->code(), 0) << s->log_text();
  EXPECT_FALSE(fs::exists(s->pid_file)) << "the pid file goes with the server";
}

TEST_F(DnsServerTest, BadArgumentsFailClearly) {
  auto r =
      run_process({ZLAYER_BINARY, "dns-server", "--listen", "nowhere:53", "--records", records_.string()});
  ASSERT_TRUE(r);
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->err.find("zlayer: invalid address \"nowhere:53\""), std::string::npos) << r->err;
  // A port already taken.
  auto s = start({"--resolv-conf", "/dev/null"});
  ASSERT_TRUE(s);
  r = run_process({ZLAYER_BINARY, "dns-server", "--listen", "127.0.0.1:" + std::to_string(s->port),
                   "--records", records_.string(), "--resolv-conf", "/dev/null"});
  ASSERT_TRUE(r);
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->err.find("Address already in use"), std::string::npos) << r->err;
  EXPECT_EQ(run_process({ZLAYER_BINARY, "--help"})->out.find("dns-server"), std::string::npos) << "hidden";
}

}  // namespace
}  // namespace zl::testing
