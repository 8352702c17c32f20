// Hostile input at the daemon's two sockets: malformed, oversized, overflowing and ill-typed
// requests to the REST API and the Docker Engine API each get a clear 4xx (or, below HTTP, a
// dropped connection) and change nothing; clients that send a header and then stall do not
// take the daemon's threads; the daemon stays up through all of it.
#include "reliability/raw_client.h"
#include "reliability/reliability_fixture.h"

namespace zl::testing {
namespace {

struct Hostile {
  const char* what;
  bool docker;          // the Docker API's socket, else the REST API's
  std::string request;  // raw bytes
  bool may_drop = false;  // below HTTP: a closed connection is a fine answer
};

std::vector<Hostile> hostile_requests() {
  auto deploy = [](std::string body) { return request("POST", "/v1/deployments", std::move(body), "X-Zlayer-File: evil.yml\r\n"); };
  auto service = [](const std::string& extra) {
    return "version: v1\ndeployment: evil\nservices:\n  a:\n    image: {name: 'busybox:1.0'}\n" + extra;
  };
  auto create = [](std::string body) { return request("POST", "/containers/create", std::move(body)); };
  return {
      {"empty spec", false, deploy("")},
      {"lone comma (yaml-cpp never returns on it)", false, deploy(",")},
      {"unclosed flow", false, deploy("{")},
      {"100k nested lists", false, deploy(std::string(100000, '[') + std::string(100000, ']'))},
      {"nul and invalid utf-8", false, deploy(std::string("version: v1\0\xff\xfe", 14) + "\n")},
      {"bad image reference", false, deploy(service("").replace(service("").find("busybox:1.0"), 11, "UPPER/Case"))},
      {"negative replicas", false, deploy(service("    scale: {mode: fixed, replicas: -1}\n"))},
      {"overflowing replicas", false, deploy(service("    scale: {mode: fixed, replicas: 99999999999999999999999}\n"))},
      {"overflowing memory", false, deploy(service("    resources: {memory: 99999999999999999999Gi}\n"))},
      {"bad stop signal", false, deploy(service("    stop_signal: SIGNOPE\n"))},
      {"wrong type", false, deploy(service("    env: [1, 2]\n"))},
      {"scale with a string", false, request("POST", "/v1/deployments/evil/services/a/scale", "{\"replicas\":\"all\"}")},
      {"scale with a huge number", false, request("POST", "/v1/deployments/evil/services/a/scale", "{\"replicas\":1e300}")},
      {"escaping path", false, request("GET", "/v1/containers/..%2F..%2F..%2Fetc%2Fpasswd")},
      {"body over the limit", false,
       "POST /v1/deployments HTTP/1.1\r\nHost: z\r\nContent-Length: 100000000000\r\n\r\nversion: v1\n"},
      {"header over 64 KiB", false, request("GET", "/v1/ping", "", "X-Big: " + std::string(70000, 'a') + "\r\n"), true},
      {"not HTTP", false, "\x16\x03\x01\x02\x00GARBAGE\r\n\r\n", true},
      {"bad chunk size", false,
       "POST /v1/deployments HTTP/1.1\r\nHost: z\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\nabc\r\n0\r\n\r\n", true},
      {"create: not JSON", true, create("{\"Image\":")},
      {"create: image of the wrong type", true, create("{\"Image\":5}")},
      {"create: negative memory", true, create("{\"Image\":\"busybox:1.0\",\"HostConfig\":{\"Memory\":-5}}")},
      {"create: overflowing cpus", true, create("{\"Image\":\"busybox:1.0\",\"HostConfig\":{\"NanoCpus\":1e40}}")},
      {"create: port out of range", true,
       create("{\"Image\":\"busybox:1.0\",\"HostConfig\":{\"PortBindings\":{\"99999/tcp\":[{\"HostPort\":\"1\"}]}}}")},
      {"create: escaping name", true,
       request("POST", "/containers/create?name=..%2F..%2Fetc", "{\"Image\":\"busybox:1.0\"}")},
      {"create: bad reference", true, create("{\"Image\":\"UPPER/Case\"}")},
      {"pull: bad reference", true, request("POST", "/images/create?fromImage=a%20b&tag=x")},
      {"kill: unknown signal", true, request("POST", "/containers/victim/kill?signal=SIGNOPE")},
      {"kill: signal out of range", true, request("POST", "/containers/victim/kill?signal=99999")},
      {"kill: negative signal", true, request("POST", "/containers/victim/kill?signal=-9")},
      {"stop: bad timeout", true, request("POST", "/containers/victim/stop?t=forever")},
      {"restart: overflowing timeout", true, request("POST", "/containers/victim/restart?t=99999999999999999999")},
      {"create: fractional memory", true, create("{\"Image\":\"busybox:1.0\",\"HostConfig\":{\"Memory\":1.5e7}}")},
  };
}

class HostileInput : public ReliabilityTest {
 protected:
  fs::path docker_socket() const { return root_ / "run" / "docker.sock"; }
  int ping(const fs::path& socket, const char* path) {
    RawClient c(socket);
    if (!c.connected() || !c.send(request("GET", path))) return 0;
    auto answer = c.read_until_closed(std::chrono::seconds(5));
    return answer ? status_of(*answer) : 0;
  }
};

TEST_F(HostileInput, EachBadRequestGetsAClear4xxAndChangesNothing) {
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  // One legitimate container for the requests that need one to reach their checks.
  RawClient made(docker_socket());
  ASSERT_TRUE(made.send(request("POST", "/containers/create?name=victim", "{\"Image\":\"busybox:1.0\",\"Cmd\":[\"sleep\",\"100\"]}")));
  auto created = made.read_until_closed(std::chrono::seconds(30));
  ASSERT_TRUE(created && status_of(*created) == 201) << created.value_or("(no answer)");

  int tried = 0;
  for (const auto& h : hostile_requests()) {
    SCOPED_TRACE(h.what);
    RawClient c(h.docker ? docker_socket() : socket());
    ASSERT_TRUE(c.connected());
    c.send(h.request);
    auto answer = c.read_until_closed(std::chrono::seconds(20));
    ASSERT_TRUE(answer) << "no answer and the connection is still open";
    int status = status_of(*answer);
    if (status == 0) {
      EXPECT_TRUE(h.may_drop) << "the connection was dropped without an answer";
    } else {
      EXPECT_GE(status, 400) << *answer;
      EXPECT_LT(status, 500) << *answer;
      // A message a person can read: {"message": "..."}, not empty.
      auto body = answer->substr(answer->find("\r\n\r\n") + 4);
      auto j = nlohmann::json::parse(body, nullptr, false);
      EXPECT_TRUE(j.is_object() && j.contains("message") && !j["message"].get<std::string>().empty()) << *answer;
      if (j.is_object()) std::printf("  %-45s %d %s\n", h.what, status, j.value("message", "").substr(0, 110).c_str());
    }
    ASSERT_TRUE(daemon_alive()) << daemon_log();
    ++tried;
  }
  std::printf("hostile requests tried: %d\n", tried);

  EXPECT_EQ(ping(socket(), "/v1/ping"), 200);
  EXPECT_EQ(ping(docker_socket(), "/_ping"), 200);
  auto deployments = api("GET", "/v1/deployments");
  EXPECT_EQ(deployments.status, 200);
  EXPECT_TRUE(deployments.body.empty() || (deployments.body.is_array() && deployments.body.empty()))
      << deployments.raw;
  auto containers = api("GET", "/v1/containers");
  ASSERT_TRUE(containers.body.is_array()) << containers.raw;
  EXPECT_EQ(containers.body.size(), 1u) << "only the victim: " << containers.raw;
}

// More stalled clients than the daemon has threads: each sent a header that promises a body,
// then nothing. The daemon keeps answering, and drops them once the body deadline passes.
TEST_F(HostileInput, StalledBodiesNeitherBlockTheDaemonNorStayForever) {
  daemon_args_ = {"--workers", "4", "--request-body-timeout", "2"};
  start_daemon();
  ASSERT_FALSE(HasFatalFailure());
  std::vector<std::unique_ptr<RawClient>> stalled;
  for (int i = 0; i < 12; ++i) {
    bool docker = i % 2 == 1;
    auto c = std::make_unique<RawClient>(docker ? docker_socket() : socket());
    ASSERT_TRUE(c->connected());
    // Buffered bodies (read on the loop) and a streamed one (`docker load`, read by a thread).
    std::string head = i == 1 ? "POST /images/load HTTP/1.1\r\n"
                              : docker ? "POST /containers/create HTTP/1.1\r\n"
                                       : "POST /v1/deployments HTTP/1.1\r\n";
    ASSERT_TRUE(c->send(head + "Host: z\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"));
    stalled.push_back(std::move(c));
  }
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ping(socket(), "/v1/ping"), 200);
  EXPECT_EQ(ping(docker_socket(), "/_ping"), 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2)) << "answered while they stall";
  for (auto& c : stalled) {
    auto answer = c->read_until_closed(std::chrono::seconds(10));
    EXPECT_TRUE(answer.has_value()) << "a stalled client is dropped after the body deadline";
  }
  EXPECT_EQ(ping(socket(), "/v1/ping"), 200);
  EXPECT_TRUE(daemon_alive()) << daemon_log();
}

}  // namespace
}  // namespace zl::testing
