// The daemon's TCP listener: off unless configured, and then TLS only, for clients whose
// certificate the configured CA signed. Certificates are made by the openssl CLI per test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "fixtures/daemon.h"

namespace zl::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A CA with a server certificate (SAN 127.0.0.1) and a client certificate, and a second CA with
// a client certificate of its own, all under `dir`.
void make_pki(const fs::path& dir) {
  ASSERT_TRUE(make_dirs(dir, 0700));
  auto openssl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    SubprocessOptions o;
    o.cwd = dir.string();
    auto r = run_process(args, o);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->exit_code, 0) << r->err;
  };
  for (const std::string ca : {"ca", "otherca"})
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca + ".key", "-out", ca + ".pem",
             "-days", "2", "-subj", "/CN=zlayer test " + ca});
  auto cert = [&](const std::string& name, const std::string& ca, const std::string& san) {
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr", "-subj",
             "/CN=" + name});
    std::ofstream(dir / (name + ".ext")) << "subjectAltName=" << san << "\n";
    openssl({"x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
             "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext"});
    ASSERT_EQ(::chmod((dir / (name + ".key")).c_str(), 0600), 0);
  };
  cert("server", "ca", "IP:127.0.0.1");
  cert("client", "ca", "DNS:client");
  cert("rogue", "otherca", "DNS:rogue");
}

class DaemonTls : public DaemonTest {
 protected:
  void SetUp() override {
    ContainerCliTest::SetUp();
    if (HasFatalFailure()) return;
    pki_ = dir_->path() / "pki";
    make_pki(pki_);
    if (HasFatalFailure() || !with_daemon_) return;
    auto port = free_port();
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    daemon_args_ = {"--tls-listen", "127.0.0.1:" + std::to_string(port_),
                    "--tls-cert",   pem("server"),
                    "--tls-key",    key("server"),
                    "--tls-ca",     pem("ca")};
    start_daemon();
  }

  std::string pem(const std::string& name) const { return (pki_ / (name + ".pem")).string(); }
  std::string key(const std::string& name) const { return (pki_ / (name + ".key")).string(); }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  // curl with these extra arguments; the result as is.
  SubprocessResult curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"curl", "-sS", "--max-time", "20"});
    auto r = run_process(args);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : SubprocessResult{};
  }
  // zlayer talking to the daemon through its TLS listener with the client certificate.
  SubprocessResult zlayer_tls(const std::vector<std::string>& args) {
    std::vector<std::string> a = {"--host",    url(""),       "--tls-cert", pem("client"),
                                  "--tls-key", key("client"), "--tls-ca",   pem("ca")};
    a.insert(a.end(), args.begin(), args.end());
    return zlayer(a, std::nullopt, 180);
  }

  fs::path pki_;
  int port_ = 0;
  bool with_daemon_ = true;  // false: the test starts its own
};

TEST_F(DaemonTls, ServesTheApiToAClientWithACertificateFromItsCa) {
  auto ok = curl({"--cacert", pem("ca"), "--cert", pem("client"), "--key", key("client"), url("/v1/ping")});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out, nullptr, false), json({{"ok", true}})) << ok.out;
  // The same router as the unix socket: errors are its JSON errors.
  auto missing = curl({"--cacert", pem("ca"), "--cert", pem("client"), "--key", key("client"), "-w",
                       "\n%{http_code}", url("/v1/deployments/nope")});
  EXPECT_NE(missing.out.find("no deployment named nope"), std::string::npos) << missing.out;
  EXPECT_TRUE(missing.out.ends_with("\n404")) << missing.out;
}

TEST_F(DaemonTls, RefusesClientsWithoutAGoodCertificateAndPlainHttp) {
  auto none = curl({"--cacert", pem("ca"), url("/v1/ping")});
  EXPECT_NE(none.exit_code, 0) << none.out;
  EXPECT_EQ(none.out.find("ok"), std::string::npos) << none.out;
  auto rogue = curl({"--cacert", pem("ca"), "--cert", pem("rogue"), "--key", key("rogue"), url("/v1/ping")});
  EXPECT_NE(rogue.exit_code, 0) << rogue.out;
  EXPECT_EQ(rogue.out.find("ok"), std::string::npos) << rogue.out;
  auto plain = curl({"http://127.0.0.1:" + std::to_string(port_) + "/v1/ping"});
  EXPECT_NE(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out.find("ok"), std::string::npos) << plain.out;
  auto old = curl({"--tls-max", "1.1", "--cacert", pem("ca"), "--cert", pem("client"), "--key", key("client"),
                   url("/v1/ping")});
  EXPECT_NE(old.exit_code, 0) << old.out;
  // And the daemon still serves a good client afterwards.
  auto ok = curl({"--cacert", pem("ca"), "--cert", pem("client"), "--key", key("client"), url("/v1/ping")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST_F(DaemonTls, DropsAClientSilentDuringTheHandshake) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  UniqueFd guard(fd);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
  timeval tv{.tv_sec = 30, .tv_usec = 0};
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
  auto t0 = std::chrono::steady_clock::now();
  char c;
  ssize_t n = ::recv(fd, &c, 1, 0);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LE(n, 0) << "the server sent data to a client that sent nothing";
  if (n < 0) {
    EXPECT_EQ(errno, ECONNRESET) << "not closed by the server within 30 s: " << strerror(errno);
  }
  EXPECT_GE(took, 9s) << "dropped before the handshake timeout (10 s)";
  EXPECT_LE(took, 20s);
}

TEST_F(DaemonTls, ZlayerDeploysAndShowsStatusThroughTheTlsListener) {
  std::ofstream(dir_->path() / "app.zlayer.yml") << R"(version: v1
deployment: remote
services:
  app:
    image: {name: "busybox:1.0", pull_policy: never}
    command: {entrypoint: [sh, -c, "echo hello from remote; exec sleep 1000"]}
    stop_grace_period: 1s
    scale: {mode: fixed, replicas: 1}
)";
  auto d = zlayer_tls({"deploy", (dir_->path() / "app.zlayer.yml").string(), "--wait", "--timeout", "60s"});
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  auto st = zlayer_tls({"status", "--format", "json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  auto j = json::parse(st.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << st.out;
  ASSERT_EQ(j.size(), 1u) << st.out;
  EXPECT_EQ(j[0]["name"], "remote");
  EXPECT_EQ(service(j[0], "app")["replicas"]["running"], 1) << st.out;
  // Service logs stream through it too (`zlayer logs` falls back to the daemon's services).
  auto logs = zlayer_tls({"logs", "app"});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_NE(logs.out.find("hello from remote"), std::string::npos) << logs.out << logs.err;
  // The unix socket sees the same deployment.
  EXPECT_EQ(api("GET", "/v1/deployments/remote").status, 200);
  // Without its certificate the CLI says what is missing; with a wrong one it cannot connect.
  auto bare = zlayer({"--host", url(""), "status"});
  EXPECT_NE(bare.exit_code, 0);
  EXPECT_NE(bare.err.find("--tls-cert"), std::string::npos) << bare.err;
  auto rogue = zlayer({"--host", url(""), "--tls-cert", pem("rogue"), "--tls-key", key("rogue"), "--tls-ca",
                       pem("ca"), "status"});
  EXPECT_NE(rogue.exit_code, 0);
  EXPECT_NE(rogue.err.find("cannot reach the zlayer daemon at https://127.0.0.1:"), std::string::npos)
      << rogue.err;
  ASSERT_EQ(zlayer_tls({"undeploy", "remote"}).exit_code, 0);
  EXPECT_EQ(api("GET", "/v1/deployments/remote").status, 404);
}

// The TCP ports a process listens on (from `ss`).
std::vector<std::string> tcp_listeners_of(pid_t pid) {
  auto r = run_process({"ss", "-Hltnp"});
  EXPECT_TRUE(r && r->exit_code == 0) << (r ? r->err : r.error().message);
  std::vector<std::string> out;
  if (!r) return out;
  std::istringstream in(r->out);
  for (std::string line; std::getline(in, line);)
    if (line.find("pid=" + std::to_string(pid) + ",") != std::string::npos) out.push_back(line);
  return out;
}

TEST_F(DaemonTls, ListensOnTcpOnlyWhereConfigured) {
  auto lines = tcp_listeners_of(daemon_->pid());
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("127.0.0.1:" + std::to_string(port_)), std::string::npos) << lines[0];
}

using DaemonWithoutTls = DaemonTest;

TEST_F(DaemonWithoutTls, HasNoTcpListener) {
  ASSERT_TRUE(daemon_);
  EXPECT_TRUE(tcp_listeners_of(daemon_->pid()).empty())
      << ::testing::PrintToString(tcp_listeners_of(daemon_->pid()));
}

// Configuration errors stop the daemon before it serves anything.
class DaemonTlsConfig : public DaemonTls {
 protected:
  DaemonTlsConfig() { with_daemon_ = false; }
  SubprocessResult daemon(const std::vector<std::string>& tls) {
    std::vector<std::string> args = {"daemon", "--docker-socket", "none"};
    args.insert(args.end(), tls.begin(), tls.end());
    return zlayer(args, std::nullopt, 30);
  }
  std::string f(const std::string& name) const { return (pki_ / name).string(); }
};

TEST_F(DaemonTlsConfig, RefusesAKeyThatGroupOrOthersCanRead) {
  ASSERT_EQ(::chmod(f("server.key").c_str(), 0644), 0);
  auto r = daemon({"--tls-listen", "127.0.0.1:1", "--tls-cert", f("server.pem"), "--tls-key", f("server.key"),
                   "--tls-ca", f("ca.pem")});
  EXPECT_FALSE(r.timed_out) << "the daemon started";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("TLS key " + f("server.key") + " is accessible by group or others (mode 0644)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(root_ / "run" / "zlayer.sock"));
}

TEST_F(DaemonTlsConfig, WantsAllFourFlagsAndAMatchingKey) {
  auto r = daemon({"--tls-listen", "127.0.0.1:1", "--tls-cert", f("server.pem")});
  EXPECT_FALSE(r.timed_out) << "the daemon started";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("go together"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing --tls-key, --tls-ca"), std::string::npos) << r.err;
  r = daemon({"--tls-listen", "127.0.0.1:1", "--tls-cert", f("server.pem"), "--tls-key", f("client.key"),
              "--tls-ca", f("ca.pem")});
  EXPECT_FALSE(r.timed_out) << "the daemon started";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not belong to the certificate"), std::string::npos) << r.err;
  r = daemon({"--tls-listen", "localhost:1", "--tls-cert", f("server.pem"), "--tls-key", f("server.key"),
              "--tls-ca", f("ca.pem")});
  EXPECT_FALSE(r.timed_out) << "the daemon started";
  EXPECT_NE(r.err.find("--tls-listen"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace zl::testing
