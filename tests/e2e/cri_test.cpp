// The Kubernetes CRI end to end: our own gRPC client (stubs from src/api/cri/api.proto) against a
// real `zlayer daemon --cri-socket`, with a real registry holding the pause and app images:
// a pod with an IP, two containers sharing its network, exec, CRI-format logs, stats, stop and
// remove leaving nothing; and the image service.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <regex>
#include <thread>

#include "cri/api.grpc.pb.h"
#include "fixtures/child_process.h"
#include "fixtures/daemon.h"
#include "fixtures/net_slot.h"
#include "fixtures/oci_layout.h"
#include "fixtures/registry.h"
#include "fixtures/test_images.h"

namespace zl::testing {
namespace {

namespace v1 = ::runtime::v1;
using namespace std::chrono_literals;

// Pushes a busybox image whose command is `cmd` (the pause image: a long sleep).
Result<Digest> push_cmd_image(const std::string& dest, std::vector<std::string> cmd) {
  ZL_TRY_ASSIGN(TempDir work, TempDir::create(fs::temp_directory_path(), "zl-image-"));
  ZL_TRY_ASSIGN(OciLayout layout, OciLayout::create(work.path() / "layout"));
  ZL_TRY_ASSIGN(Descriptor top, layout.add_image({.layers = {busybox_layer()}, .cmd = std::move(cmd)}));
  ZL_TRY(layout.tag("test", top));
  return skopeo_push(layout.dir(), "test", dest);
}

// What a remotecommand WebSocket stream (v5.channel.k8s.io) carried back.
struct Streamed {
  std::string out, err, status;
  std::string error;  // the client's own failure
};

// Opens a streaming URL as kubectl/crictl --transport websocket do, sends `input` on stdin (then
// closes it), and reads every frame until the server closes.
Streamed stream_url(const std::string& url, const std::optional<std::string>& input) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace websocket = beast::websocket;
  Streamed s;
  std::smatch m;
  if (!std::regex_match(url, m, std::regex(R"(http://([^:/]+):(\d+)(/.*))"))) {
    s.error = "unexpected url " + url;
    return s;
  }
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    websocket::stream<asio::ip::tcp::socket> ws(io);
    asio::connect(ws.next_layer(), resolver.resolve(m[1].str(), m[2].str()));
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
      req.set(beast::http::field::sec_websocket_protocol, "v5.channel.k8s.io");
    }));
    websocket::response_type res;
    ws.handshake(res, m[1].str() + ":" + m[2].str(), m[3].str());
    if (res[beast::http::field::sec_websocket_protocol] != "v5.channel.k8s.io") s.error = "no v5 protocol";
    ws.binary(true);
    if (input) {
      ws.write(asio::buffer(std::string(1, '\0') + *input));
      ws.write(asio::buffer(std::string("\xff\x00", 2)));
    }
    for (;;) {
      beast::flat_buffer buf;
      beast::error_code ec;
      ws.read(buf, ec);
      if (ec) break;
      std::string msg = beast::buffers_to_string(buf.data());
      if (msg.empty()) continue;
      std::string data = msg.substr(1);
      switch (msg[0]) {
        case 1: s.out += data; break;
        case 2: s.err += data; break;
        case 3: s.status += data; break;
        default: break;
      }
    }
  } catch (const std::exception& e) {
    s.error = e.what();
  }
  return s;
}

class Cri : public DaemonTest {
 protected:
  static void SetUpTestSuite() {
    auto r = TestRegistry::start();
    ASSERT_TRUE(r) << r.error().message;
    registry_ = std::move(*r).release();
    auto pause = push_cmd_image(registry_->host() + "/pause:3.9", {"/bin/busybox", "sleep", "2147483647"});
    ASSERT_TRUE(pause) << pause.error().message;
    auto app = push_busybox_image(registry_->host() + "/app:1");
    ASSERT_TRUE(app) << app.error().message;
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(registry_);
    cri_socket_ = fs::temp_directory_path() / fmt::format("zl-cri-{}-{}.sock", ::getpid(), ++sockets_);
    daemon_args_ = {"--cri-socket", cri_socket_.string(), "--cri-pause-image", registry_->host() + "/pause:3.9"};
    DaemonTest::SetUp();
    if (HasFatalFailure()) return;
    connect();
  }

  // A channel of its own (no subchannel shared with an earlier one to a daemon that has gone).
  void connect() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel =
        grpc::CreateCustomChannel("unix:" + cri_socket_.string(), grpc::InsecureChannelCredentials(), args);
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + 10s)) << "no CRI socket";
    rt_ = v1::RuntimeService::NewStub(channel);
    img_ = v1::ImageService::NewStub(channel);
  }
  void TearDown() override {
    DaemonTest::TearDown();
    std::error_code ec;
    fs::remove(cri_socket_, ec);
  }

  std::string daemon_log_tail() const {
    std::string log = read_file(dir_->path() / "daemon.log").value_or("");
    return log.size() > 3000 ? log.substr(log.size() - 3000) : log;
  }
// One call with a deadline; the test stops with gRPC's message (and the daemon's log) if it fails.
#define CRI_OK(stub, method, req, resp)                                                                  \
  do {                                                                                                   \
    grpc::ClientContext ctx_;                                                                            \
    ctx_.set_deadline(std::chrono::system_clock::now() + 60s);                                           \
    auto st_ = (stub)->method(&ctx_, req, resp);                                                         \
    ASSERT_TRUE(st_.ok()) << #method ": " << st_.error_code() << " " << st_.error_message() << "\n"      \
                          << daemon_log_tail();                                                          \
  } while (0)

  v1::PodSandboxConfig pod_config(const std::string& name) {
    v1::PodSandboxConfig cfg;
    cfg.mutable_metadata()->set_name(name);
    cfg.mutable_metadata()->set_uid("uid-" + name);
    cfg.mutable_metadata()->set_namespace_("default");
    cfg.set_hostname(name);
    cfg.set_log_directory((dir_->path() / "pods" / name).string());
    cfg.mutable_dns_config()->add_servers("10.96.0.10");
    cfg.mutable_dns_config()->add_searches("default.svc.cluster.local");
    cfg.mutable_dns_config()->add_options("ndots:5");
    (*cfg.mutable_labels())["app"] = name;
    (*cfg.mutable_annotations())["note"] = "from the test";
    return cfg;
  }

  v1::ContainerConfig container_config(const std::string& name, std::vector<std::string> command) {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(registry_->host() + "/app:1");
    for (auto& a : command) c.add_command(a);
    auto* env = c.add_envs();
    env->set_key("GREETING");
    env->set_value("hello-from-server");
    c.set_log_path(name + "/0.log");
    (*c.mutable_labels())["role"] = name;
    return c;
  }

  std::string create_and_start(const std::string& pod, const v1::PodSandboxConfig& cfg, const v1::ContainerConfig& c) {
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_config() = c;
    *req.mutable_sandbox_config() = cfg;
    v1::CreateContainerResponse resp;
    grpc::ClientContext ctx;
    auto st = rt_->CreateContainer(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << "CreateContainer " << c.metadata().name() << ": " << st.error_message();
    if (!st.ok()) return "";
    v1::StartContainerRequest start;
    start.set_container_id(resp.container_id());
    v1::StartContainerResponse sr;
    grpc::ClientContext ctx2;
    auto st2 = rt_->StartContainer(&ctx2, start, &sr);
    EXPECT_TRUE(st2.ok()) << "StartContainer: " << st2.error_message();
    return resp.container_id();
  }

  v1::ExecSyncResponse exec(const std::string& id, std::vector<std::string> cmd, grpc::Status* status = nullptr) {
    v1::ExecSyncRequest req;
    req.set_container_id(id);
    for (auto& a : cmd) req.add_cmd(a);
    req.set_timeout(10);
    v1::ExecSyncResponse resp;
    grpc::ClientContext ctx;
    auto st = rt_->ExecSync(&ctx, req, &resp);
    if (status) *status = st;
    return resp;
  }

  v1::ContainerStatus status(const std::string& id) {
    v1::ContainerStatusRequest req;
    req.set_container_id(id);
    v1::ContainerStatusResponse resp;
    grpc::ClientContext ctx;
    auto st = rt_->ContainerStatus(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.status();
  }

  static TestRegistry* registry_;
  static int sockets_;
  fs::path cri_socket_;
  std::unique_ptr<v1::RuntimeService::Stub> rt_;
  std::unique_ptr<v1::ImageService::Stub> img_;
};

TestRegistry* Cri::registry_ = nullptr;
int Cri::sockets_ = 0;

TEST_F(Cri, VersionStatusAndRuntimeConfig) {
  v1::VersionRequest vreq;
  v1::VersionResponse v;
  CRI_OK(rt_, Version, vreq, &v);
  EXPECT_EQ(v.runtime_name(), "zlayer");
  EXPECT_EQ(v.runtime_api_version(), "v1");
  EXPECT_FALSE(v.runtime_version().empty());

  v1::StatusRequest sreq;
  v1::StatusResponse s;
  CRI_OK(rt_, Status, sreq, &s);
  std::map<std::string, bool> conditions;
  for (const auto& c : s.status().conditions()) conditions[c.type()] = c.status();
  EXPECT_EQ(conditions, (std::map<std::string, bool>{{"NetworkReady", true}, {"RuntimeReady", true}}));

  v1::RuntimeConfigRequest creq;
  v1::RuntimeConfigResponse c;
  CRI_OK(rt_, RuntimeConfig, creq, &c);
  EXPECT_EQ(c.linux().cgroup_driver(), v1::CGROUPFS);

  // The socket is root's, 0660, like the daemon's others.
  struct stat st {};
  ASSERT_EQ(::stat(cri_socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_uid, 0u);
}

TEST_F(Cri, PodLifecycleTwoContainersShareTheNetwork) {
  // The kubelet pulls first.
  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(registry_->host() + "/app:1");
  v1::PullImageResponse pulled;
  CRI_OK(img_, PullImage, pull, &pulled);
  EXPECT_TRUE(pulled.image_ref().starts_with("sha256:")) << pulled.image_ref();

  auto cfg = pod_config("web");
  auto host_port = free_port();
  ASSERT_TRUE(host_port);
  auto* pm = cfg.add_port_mappings();  // a hostPort: published by the sandbox, served by its container
  pm->set_container_port(8080);
  pm->set_host_port(*host_port);
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = cfg;
  v1::RunPodSandboxResponse ran;
  CRI_OK(rt_, RunPodSandbox, run, &ran);
  std::string pod = ran.pod_sandbox_id();
  ASSERT_EQ(pod.size(), 64u);

  // Ready, with an address of the cluster range.
  v1::PodSandboxStatusRequest psreq;
  psreq.set_pod_sandbox_id(pod.substr(0, 12));
  v1::PodSandboxStatusResponse ps;
  CRI_OK(rt_, PodSandboxStatus, psreq, &ps);
  EXPECT_EQ(ps.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(ps.status().metadata().name(), "web");
  EXPECT_EQ(ps.status().labels().at("app"), "web");
  EXPECT_EQ(ps.status().annotations().at("note"), "from the test");
  std::string ip = ps.status().network().ip();
  EXPECT_TRUE(ip.starts_with(net_.cluster().substr(0, net_.cluster().find(".0.0/")))) << ip << " " << net_.cluster();

  // A server and a client in the pod: the client reaches the server on localhost.
  std::string server = create_and_start(
      pod, cfg,
      container_config("server", {"/bin/busybox", "sh", "-c",
                                  "/bin/busybox mkdir -p /tmp/www && echo $GREETING > /tmp/www/index.html && "
                                  "echo started && echo to-err >&2 && exec /bin/busybox httpd -f -p 8080 -h /tmp/www"}));
  auto client_cfg = container_config("client", {"/bin/busybox", "sleep", "1000"});
  client_cfg.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(v1::CONTAINER);
  std::string client = create_and_start(pod, cfg, client_cfg);
  ASSERT_FALSE(server.empty());
  ASSERT_FALSE(client.empty());

  std::string body;
  for (int i = 0; i < 50 && body.empty(); ++i) {
    auto r = exec(client, {"/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"});
    if (r.exit_code() == 0) body = r.stdout();
    else std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(body, "hello-from-server\n");
  auto [code, from_host] =
      host_command({"busybox", "wget", "-qO-", fmt::format("http://127.0.0.1:{}/index.html", *host_port)});
  EXPECT_EQ(code, 0) << from_host;
  EXPECT_EQ(from_host, "hello-from-server\n");

  // ExecSync: output, exit code; the pod's hostname and DNS config.
  auto r = exec(client, {"sh", "-c", "echo out; echo err >&2; exit 7"});
  EXPECT_EQ(r.stdout(), "out\n");
  EXPECT_EQ(r.stderr(), "err\n");
  EXPECT_EQ(r.exit_code(), 7);
  EXPECT_EQ(exec(client, {"/bin/busybox", "hostname"}).stdout(), "web\n");
  EXPECT_EQ(exec(server, {"cat", "/etc/resolv.conf"}).stdout(),
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local\noptions ndots:5\n");
  // The pod's IPC namespace is one; PID namespaces as each container asked (the server shares the pod's).
  auto ns_of = [&](const std::string& id, const std::string& ns) {
    return exec(id, {"/bin/busybox", "readlink", "/proc/self/ns/" + ns}).stdout();
  };
  EXPECT_FALSE(ns_of(server, "ipc").empty());
  EXPECT_EQ(ns_of(server, "ipc"), ns_of(client, "ipc"));
  EXPECT_NE(ns_of(server, "pid"), ns_of(client, "pid"));
  EXPECT_EQ(exec(client, {"/bin/busybox", "ps"}).stdout().find("httpd"), std::string::npos);
  EXPECT_NE(exec(server, {"/bin/busybox", "ps"}).stdout().find("sleep 2147483647"), std::string::npos)
      << "the server sees the pod's pause process";
  grpc::Status missing;
  exec(client, {"/no/such/binary"}, &missing);
  EXPECT_TRUE(missing.ok()) << missing.error_message();

  // The log at the kubelet's path, in the CRI format.
  fs::path log = fs::path(cfg.log_directory()) / "server" / "0.log";
  std::string text;
  for (int i = 0; i < 50; ++i) {
    text = read_file(log).value_or("");
    if (text.find("to-err") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  std::regex line(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) (F|P) .*)");
  std::istringstream lines(text);
  int n = 0;
  for (std::string l; std::getline(lines, l); ++n) EXPECT_TRUE(std::regex_match(l, line)) << l;
  EXPECT_EQ(n, 2) << text;
  EXPECT_NE(text.find(" stdout F started\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" stderr F to-err\n"), std::string::npos) << text;

  // Status and lists.
  auto s = status(server);
  EXPECT_EQ(s.state(), v1::CONTAINER_RUNNING);
  EXPECT_GT(s.started_at(), 0);
  EXPECT_EQ(s.metadata().name(), "server");
  EXPECT_EQ(s.log_path(), log.string());
  EXPECT_EQ(s.labels().at("role"), "server");
  EXPECT_TRUE(s.image_ref().starts_with("sha256:"));

  v1::ListContainersRequest lreq;
  lreq.mutable_filter()->set_pod_sandbox_id(pod);
  v1::ListContainersResponse lc;
  CRI_OK(rt_, ListContainers, lreq, &lc);
  EXPECT_EQ(lc.containers_size(), 2);
  (*lreq.mutable_filter()->mutable_label_selector())["role"] = "client";
  CRI_OK(rt_, ListContainers, lreq, &lc);
  ASSERT_EQ(lc.containers_size(), 1);
  EXPECT_EQ(lc.containers(0).id(), client);

  v1::ListPodSandboxRequest lpreq;
  (*lpreq.mutable_filter()->mutable_label_selector())["app"] = "web";
  v1::ListPodSandboxResponse lp;
  CRI_OK(rt_, ListPodSandbox, lpreq, &lp);
  ASSERT_EQ(lp.items_size(), 1);
  EXPECT_EQ(lp.items(0).id(), pod);
  (*lpreq.mutable_filter()->mutable_label_selector())["app"] = "other";
  CRI_OK(rt_, ListPodSandbox, lpreq, &lp);
  EXPECT_EQ(lp.items_size(), 0);

  // The same containers in zlayer's own view.
  auto zps = zlayer({"ps"});
  EXPECT_NE(zps.out.find("k8s_server_web_default_uid-web_0"), std::string::npos) << zps.out;
  EXPECT_NE(zps.out.find("k8s_POD_web_default_uid-web_0"), std::string::npos) << zps.out;

  // Stats.
  v1::ContainerStatsRequest csreq;
  csreq.set_container_id(server);
  v1::ContainerStatsResponse cs;
  CRI_OK(rt_, ContainerStats, csreq, &cs);
  EXPECT_GT(cs.stats().memory().working_set_bytes().value(), 0u);
  EXPECT_GT(cs.stats().cpu().usage_core_nano_seconds().value(), 0u);
  v1::ListContainerStatsRequest lsreq;
  v1::ListContainerStatsResponse ls;
  CRI_OK(rt_, ListContainerStats, lsreq, &ls);
  EXPECT_EQ(ls.stats_size(), 2);  // server and client
  v1::PodSandboxStatsRequest pstreq;
  pstreq.set_pod_sandbox_id(pod);
  v1::PodSandboxStatsResponse pst;
  CRI_OK(rt_, PodSandboxStats, pstreq, &pst);
  EXPECT_EQ(pst.stats().linux().containers_size(), 2);
  EXPECT_GT(pst.stats().linux().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(pst.stats().linux().process().process_count().value(), 3u);

  // Streaming exec over the URL Exec returns: stdin in, stdout/stderr out, the exit code as a Status.
  v1::ExecRequest xreq;
  xreq.set_container_id(client);
  for (const char* a : {"sh", "-c", "read line; echo got:$line; echo err >&2; exit 3"}) xreq.add_cmd(a);
  xreq.set_stdin(true);
  xreq.set_stdout(true);
  xreq.set_stderr(true);
  v1::ExecResponse xr;
  CRI_OK(rt_, Exec, xreq, &xr);
  auto streamed = stream_url(xr.url(), "hello\n");
  EXPECT_EQ(streamed.error, "");
  EXPECT_EQ(streamed.out, "got:hello\n");
  EXPECT_EQ(streamed.err, "err\n");
  EXPECT_NE(streamed.status.find(R"("reason":"NonZeroExitCode")"), std::string::npos) << streamed.status;
  EXPECT_NE(streamed.status.find(R"("message":"3")"), std::string::npos) << streamed.status;
  EXPECT_EQ(stream_url(xr.url(), std::nullopt).error.empty(), false);  // a URL serves once
  xreq.clear_cmd();
  for (const char* a : {"/bin/busybox", "hostname"}) xreq.add_cmd(a);
  xreq.set_stdin(false);
  CRI_OK(rt_, Exec, xreq, &xr);
  streamed = stream_url(xr.url(), std::nullopt);
  EXPECT_EQ(streamed.out, "web\n");
  EXPECT_EQ(streamed.status, R"({"metadata":{},"status":"Success"})");
  // Much more input than a pipe holds, to a process that reads it all; and to one that reads none.
  xreq.clear_cmd();
  for (const char* a : {"/bin/busybox", "wc", "-c"}) xreq.add_cmd(a);
  xreq.set_stdin(true);
  CRI_OK(rt_, Exec, xreq, &xr);
  streamed = stream_url(xr.url(), std::string(300000, 'x'));
  EXPECT_EQ(streamed.out, "300000\n");
  xreq.clear_cmd();
  for (const char* a : {"sh", "-c", "echo ignored"}) xreq.add_cmd(a);
  CRI_OK(rt_, Exec, xreq, &xr);
  streamed = stream_url(xr.url(), std::string(300000, 'x'));
  EXPECT_EQ(streamed.out, "ignored\n");
  EXPECT_EQ(streamed.status, R"({"metadata":{},"status":"Success"})");
  // With a tty: the process has a terminal, and everything comes back on stdout.
  xreq.clear_cmd();
  for (const char* a : {"sh", "-c", "read line; echo tty:$(/bin/busybox tty) $line >&2"}) xreq.add_cmd(a);
  xreq.set_tty(true);
  xreq.set_stdin(true);
  CRI_OK(rt_, Exec, xreq, &xr);
  streamed = stream_url(xr.url(), "typed\n");
  EXPECT_NE(streamed.out.find("tty:/dev/pts/"), std::string::npos) << streamed.out;
  EXPECT_NE(streamed.out.find(" typed"), std::string::npos) << streamed.out;
  EXPECT_EQ(streamed.err, "");
  EXPECT_EQ(streamed.status, R"({"metadata":{},"status":"Success"})");

  // Attach to a container that reads its stdin: our input in, its output back, then it exits.
  auto reader_cfg = container_config("reader", {"sh", "-c", "read line; echo got:$line; echo bye >&2"});
  reader_cfg.set_stdin(true);
  reader_cfg.set_stdin_once(true);
  std::string reader = create_and_start(pod, cfg, reader_cfg);
  v1::AttachRequest areq;
  areq.set_container_id(reader);
  areq.set_stdin(true);
  areq.set_stdout(true);
  areq.set_stderr(true);
  v1::AttachResponse ar;
  CRI_OK(rt_, Attach, areq, &ar);
  streamed = stream_url(ar.url(), "attached\n");
  EXPECT_EQ(streamed.error, "");
  EXPECT_EQ(streamed.out, "got:attached\n");
  EXPECT_EQ(streamed.err, "bye\n");
  EXPECT_EQ(streamed.status, R"({"metadata":{},"status":"Success"})");

  // Resources can change while it runs.
  v1::UpdateContainerResourcesRequest ureq;
  ureq.set_container_id(server);
  ureq.mutable_linux()->set_memory_limit_in_bytes(64 << 20);
  v1::UpdateContainerResourcesResponse ur;
  CRI_OK(rt_, UpdateContainerResources, ureq, &ur);
  v1::ReopenContainerLogRequest rlreq;
  rlreq.set_container_id(server);
  v1::ReopenContainerLogResponse rl;
  CRI_OK(rt_, ReopenContainerLog, rlreq, &rl);

  // A container that exits: its code and the kubelet's reason.
  std::string job = create_and_start(pod, cfg, container_config("job", {"sh", "-c", "exit 3"}));
  v1::ContainerStatus js;
  for (int i = 0; i < 100; ++i) {
    js = status(job);
    if (js.state() == v1::CONTAINER_EXITED) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(js.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(js.exit_code(), 3);
  EXPECT_EQ(js.reason(), "Error");
  EXPECT_GT(js.finished_at(), 0);

  // Stop with a timeout (httpd as pid 1 ignores SIGTERM: killed after it).
  v1::StopContainerRequest stop;
  stop.set_container_id(server);
  stop.set_timeout(1);
  v1::StopContainerResponse stopped;
  CRI_OK(rt_, StopContainer, stop, &stopped);
  EXPECT_EQ(status(server).state(), v1::CONTAINER_EXITED);

  // Stop and remove the pod: nothing is left.
  v1::StopPodSandboxRequest sp;
  sp.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse spr;
  CRI_OK(rt_, StopPodSandbox, sp, &spr);
  CRI_OK(rt_, PodSandboxStatus, psreq, &ps);
  EXPECT_EQ(ps.status().state(), v1::SANDBOX_NOTREADY);
  EXPECT_EQ(status(client).state(), v1::CONTAINER_EXITED);
  v1::RemovePodSandboxRequest rp;
  rp.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse rpr;
  CRI_OK(rt_, RemovePodSandbox, rp, &rpr);
  CRI_OK(rt_, RemovePodSandbox, rp, &rpr);  // idempotent
  v1::ListPodSandboxRequest all;
  CRI_OK(rt_, ListPodSandbox, all, &lp);
  EXPECT_EQ(lp.items_size(), 0);
  v1::ListContainersRequest allc;
  CRI_OK(rt_, ListContainers, allc, &lc);
  EXPECT_EQ(lc.containers_size(), 0);
  EXPECT_EQ(zlayer({"ps", "-aq"}).out, "");
  EXPECT_FALSE(fs::exists(fs::symlink_status(log)));
  EXPECT_FALSE(fs::exists(root_ / "cri" / "pods" / "k8s_POD_web_default_uid-web_0"));
}

TEST_F(Cri, PodsAndContainersSurviveADaemonRestart) {
  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(registry_->host() + "/app:1");
  v1::PullImageResponse pulled;
  CRI_OK(img_, PullImage, pull, &pulled);
  auto cfg = pod_config("restart");
  v1::RunPodSandboxRequest run;
  *run.mutable_config() = cfg;
  v1::RunPodSandboxResponse ran;
  CRI_OK(rt_, RunPodSandbox, run, &ran);
  // As the kubelet does: the image named by the id PullImage answered, the user's name beside it.
  auto app_cfg = container_config("app", {"/bin/busybox", "sleep", "1000"});
  app_cfg.mutable_image()->set_image(pulled.image_ref());
  app_cfg.mutable_image()->set_user_specified_image(registry_->host() + "/app:1");
  std::string app = create_and_start(ran.pod_sandbox_id(), cfg, app_cfg);
  ASSERT_FALSE(app.empty());
  v1::PodSandboxStatusRequest psreq;
  psreq.set_pod_sandbox_id(ran.pod_sandbox_id());
  v1::PodSandboxStatusResponse before;
  CRI_OK(rt_, PodSandboxStatus, psreq, &before);

  // Everything the CRI reports is on disk with the containers: a new daemon tells the same.
  auto stopping = std::chrono::steady_clock::now();
  daemon_->stop();
  daemon_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 2s) << "the daemon took long to stop";
  start_daemon();
  connect();

  v1::PodSandboxStatusResponse after;
  CRI_OK(rt_, PodSandboxStatus, psreq, &after);
  EXPECT_EQ(after.status().state(), v1::SANDBOX_READY);
  EXPECT_EQ(after.status().network().ip(), before.status().network().ip());
  EXPECT_EQ(after.status().labels().at("app"), "restart");
  auto s = status(app);
  EXPECT_EQ(s.state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(s.metadata().name(), "app");
  EXPECT_EQ(s.image().image(), registry_->host() + "/app:1");
  EXPECT_EQ(s.image_ref(), pulled.image_ref());
  EXPECT_EQ(exec(app, {"/bin/busybox", "hostname"}).stdout(), "restart\n");

  v1::RemovePodSandboxRequest rp;
  rp.set_pod_sandbox_id(ran.pod_sandbox_id());
  v1::RemovePodSandboxResponse rpr;
  CRI_OK(rt_, RemovePodSandbox, rp, &rpr);  // running containers too: forced, as the kubelet expects
  EXPECT_EQ(zlayer({"ps", "-aq"}).out, "");
}

TEST_F(Cri, ImagesPullListStatusRemove) {
  // A registry with basic auth: the kubelet passes the pod's pull secret.
  auto secured = TestRegistry::start({.basic_auth = Credentials{"kube", "s3cret"}});
  ASSERT_TRUE(secured) << secured.error().message;
  std::string ref = (*secured)->host() + "/private/app:2";
  ASSERT_TRUE(push_busybox_image(ref, {.creds = Credentials{"kube", "s3cret"}}, {}, "private"));

  v1::PullImageRequest pull;
  pull.mutable_image()->set_image(ref);
  v1::PullImageResponse pulled;
  {
    grpc::ClientContext ctx;
    auto st = img_->PullImage(&ctx, pull, &pulled);
    EXPECT_FALSE(st.ok()) << "pulled without credentials";
  }
  pull.mutable_auth()->set_auth(base64_encode("kube:s3cret"));
  CRI_OK(img_, PullImage, pull, &pulled);
  std::string id = pulled.image_ref();
  ASSERT_TRUE(id.starts_with("sha256:")) << id;

  v1::ListImagesRequest lreq;
  v1::ListImagesResponse li;
  CRI_OK(img_, ListImages, lreq, &li);
  bool listed = false;
  for (const auto& i : li.images()) {
    if (i.id() != id) continue;
    listed = true;
    EXPECT_EQ(std::vector<std::string>(i.repo_tags().begin(), i.repo_tags().end()), std::vector<std::string>{ref});
    ASSERT_EQ(i.repo_digests_size(), 1);
    EXPECT_TRUE(i.repo_digests(0).starts_with((*secured)->host() + "/private/app@sha256:")) << i.repo_digests(0);
    EXPECT_GT(i.size(), 0u);
  }
  EXPECT_TRUE(listed);

  for (const std::string& name : {ref, id, id.substr(7, 12)}) {
    v1::ImageStatusRequest sreq;
    sreq.mutable_image()->set_image(name);
    v1::ImageStatusResponse s;
    CRI_OK(img_, ImageStatus, sreq, &s);
    EXPECT_EQ(s.image().id(), id) << name;
  }

  v1::ImageFsInfoRequest freq;
  v1::ImageFsInfoResponse f;
  CRI_OK(img_, ImageFsInfo, freq, &f);
  ASSERT_EQ(f.image_filesystems_size(), 1);
  EXPECT_GT(f.image_filesystems(0).used_bytes().value(), 0u);
  EXPECT_GT(f.image_filesystems(0).inodes_used().value(), 0u);

  v1::RemoveImageRequest rreq;
  rreq.mutable_image()->set_image(ref);
  v1::RemoveImageResponse rr;
  CRI_OK(img_, RemoveImage, rreq, &rr);
  CRI_OK(img_, RemoveImage, rreq, &rr);  // gone already: fine
  v1::ImageStatusRequest sreq;
  sreq.mutable_image()->set_image(ref);
  v1::ImageStatusResponse s;
  CRI_OK(img_, ImageStatus, sreq, &s);
  EXPECT_FALSE(s.has_image());
  EXPECT_EQ(zlayer({"images", "-q"}).out.find(id.substr(7, 12)), std::string::npos);
}

}  // namespace
}  // namespace zl::testing
