// The Docker Engine API end to end: the stock docker CLI (28.x, stepping down to API 1.41) and
// docker-py 7.1 against a real `zlayer daemon`, with real containers behind it.
#include <cstdlib>
#include <fstream>

#include "fixtures/docker_cli.h"

namespace zl::testing {
namespace {

TEST_F(DockerApi, PingAndVersionNegotiateApi141) {
  auto v = docker({"version", "--format", "{{.Server.APIVersion}} {{.Client.APIVersion}}"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out, "1.41 1.41\n");
  auto ping = api("GET", "/v1/ping");  // the native API still answers beside it
  EXPECT_EQ(ping.status, 200);
}

TEST_F(DockerApi, RunRmPrintsOutputAndReturnsTheExitCode) {
  auto r = docker({"run", "--rm", "busybox:1.0", "sh", "-c", "echo hi; echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "oops\n");
  // --rm: gone from both views.
  EXPECT_EQ(docker({"ps", "-aq"}).out, "");
  EXPECT_EQ(zlayer({"ps", "-aq"}).out, "");
}

TEST_F(DockerApi, RunInteractiveWithStdin) {
  auto r = docker({"run", "--rm", "-i", "busybox:1.0", "sh", "-c", "read line; echo got:$line"}, "hello\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "got:hello\n");
}

TEST_F(DockerApi, DetachedLifecycleSharedWithZlayer) {
  auto id = docker({"run", "-d", "--name", "web", "-e", "GREETING=hey", "busybox:1.0", "sh", "-c",
                    "echo $GREETING; echo to-err >&2; exec sleep 1000"});
  ASSERT_EQ(id.exit_code, 0) << id.err;
  ASSERT_EQ(id.out.size(), 65u) << id.out;
  // The same container in zlayer's own view, and the other way round.
  EXPECT_NE(zlayer({"ps"}).out.find("web"), std::string::npos);
  ASSERT_EQ(zlayer({"run", "-d", "--name", "native", "busybox:1.0", "sh", "-c",
                    "trap 'exit 143' TERM; while true; do sleep 0.1; done"})
                .exit_code,
            0);
  auto ps = docker({"ps", "--format", "{{.Names}} {{.Status}}"});
  EXPECT_NE(ps.out.find("native Up"), std::string::npos) << ps.out;
  EXPECT_NE(ps.out.find("web Up"), std::string::npos) << ps.out;
  auto filtered = docker({"ps", "--filter", "name=nat", "--format", "{{.Names}}"});
  EXPECT_EQ(filtered.out, "native\n");

  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto logs = docker({"logs", "web"});
  EXPECT_EQ(logs.out, "hey\n");
  EXPECT_EQ(logs.err, "to-err\n");
  auto ex = docker({"exec", "web", "sh", "-c", "echo in-exec; exit 4"});
  EXPECT_EQ(ex.exit_code, 4);
  EXPECT_EQ(ex.out, "in-exec\n");
  auto insp = docker({"inspect", "-f", "{{.State.Status}} {{.Name}} {{.Config.Image}}", "web"});
  EXPECT_EQ(insp.out, "running /web busybox:1.0\n");
  EXPECT_EQ(docker({"kill", "-s", "TERM", "native"}).exit_code, 0);
  EXPECT_EQ(docker({"stop", "-t", "1", "web"}).exit_code, 0);
  auto code = docker({"inspect", "-f", "{{.State.ExitCode}}", "web"});
  EXPECT_EQ(code.out, "137\n");
  auto wait = docker({"wait", "native"});
  EXPECT_EQ(wait.out, "143\n");
  auto busy = docker({"run", "-d", "--name", "busy", "busybox:1.0", "sleep", "1000"});
  auto rm_running = docker({"rm", "busy"});
  EXPECT_NE(rm_running.exit_code, 0);
  EXPECT_NE(rm_running.err.find("cannot remove a running container"), std::string::npos) << rm_running.err;
  EXPECT_EQ(docker({"rm", "-f", "busy", "web", "native"}).exit_code, 0);
  EXPECT_EQ(zlayer({"ps", "-aq"}).out, "");
}

TEST_F(DockerApi, ErrorsReadLikeDockers) {
  auto missing = docker({"inspect", "nosuch"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("No such object: nosuch"), std::string::npos) << missing.err;
  auto stop = docker({"stop", "nosuch"});
  EXPECT_NE(stop.err.find("No such container: nosuch"), std::string::npos) << stop.err;
  ASSERT_EQ(docker({"create", "--name", "dup", "busybox:1.0", "true"}).exit_code, 0);
  auto dup = docker({"create", "--name", "dup", "busybox:1.0", "true"});
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.err.find("dup"), std::string::npos) << dup.err;
}

TEST_F(DockerApi, ImagesTagInspectAndRemove) {
  auto images = docker({"images", "--format", "{{.Repository}}:{{.Tag}}"});
  EXPECT_EQ(images.out, "busybox:1.0\n");
  ASSERT_EQ(docker({"tag", "busybox:1.0", "example.com/team/box:2"}).exit_code, 0);
  auto insp = docker({"image", "inspect", "-f", "{{.Os}} {{len .RootFS.Layers}}", "example.com/team/box:2"});
  EXPECT_EQ(insp.out, "linux 1\n") << insp.err;
  EXPECT_NE(zlayer({"images"}).out.find("example.com/team/box"), std::string::npos);
  auto rmi = docker({"rmi", "example.com/team/box:2"});
  EXPECT_EQ(rmi.exit_code, 0) << rmi.err;
  EXPECT_NE(rmi.out.find("Untagged: example.com/team/box:2"), std::string::npos) << rmi.out;
  auto gone = docker({"image", "inspect", "example.com/team/box:2"});
  EXPECT_NE(gone.exit_code, 0);
}

TEST_F(DockerApi, DockerPyDrivesTheSameFlows) {
  std::string script = R"PY(
import docker, sys
c = docker.DockerClient(base_url=sys.argv[1], version="1.41")
assert c.ping()
out = c.containers.run("busybox:1.0", ["sh", "-c", "echo from-py"], remove=True)
assert out == b"from-py\n", out
ctr = c.containers.run("busybox:1.0", ["sleep", "1000"], detach=True, name="py")
ctr.reload()
assert ctr.status == "running", ctr.status
res = ctr.exec_run(["sh", "-c", "echo x; exit 2"])
assert res.exit_code == 2 and res.output == b"x\n", res
assert [x.name for x in c.containers.list()] == ["py"]
ctr.kill()
assert ctr.wait()["StatusCode"] == 137
ctr.remove()
assert c.containers.list(all=True) == []
assert "busybox:1.0" in [t for i in c.images.list() for t in i.tags]
try:
    c.containers.get("nosuch")
    raise SystemExit("expected NotFound")
except docker.errors.NotFound:
    pass
print("docker-py ok")
)PY";
  auto r = python(script);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "docker-py ok\n") << r.err;
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

TEST_F(DockerApi, VolumesStatsTopAndPrune) {
  ASSERT_EQ(docker({"volume", "create", "data"}).exit_code, 0);
  auto w = docker({"run", "--rm", "-v", "data:/data", "busybox:1.0", "sh", "-c", "echo kept > /data/f"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto r = docker({"run", "--rm", "-v", "data:/data", "busybox:1.0", "cat", "/data/f"});
  EXPECT_EQ(r.out, "kept\n");
  auto ls = docker({"volume", "ls", "--format", "{{.Name}} {{.Driver}}"});
  EXPECT_EQ(ls.out, "data local\n");
  EXPECT_NE(zlayer({"volume", "ls"}).out.find("data"), std::string::npos);
  auto mp = docker({"volume", "inspect", "-f", "{{.Mountpoint}}", "data"});
  EXPECT_EQ(mp.out, (root_ / "volumes" / "data" / "_data").string() + "\n");

  ASSERT_EQ(
      docker({"run", "-d", "--name", "busy", "-v", "data:/data", "busybox:1.0", "sleep", "1000"}).exit_code,
      0);
  auto in_use = docker({"volume", "rm", "data"});
  EXPECT_NE(in_use.exit_code, 0);
  EXPECT_NE(in_use.err.find("in use"), std::string::npos) << in_use.err;
  auto stats = docker({"stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "busy"});
  EXPECT_EQ(stats.out, "busy 1\n") << stats.err;
  auto top = docker({"top", "busy"});
  EXPECT_NE(top.out.find("sleep 1000"), std::string::npos) << top.out << top.err;

  ASSERT_EQ(docker({"create", "--name", "idle", "busybox:1.0", "true"}).exit_code, 0);
  auto prune = docker({"container", "prune", "-f"});
  EXPECT_EQ(prune.exit_code, 0) << prune.err;
  auto left = docker({"ps", "-a", "--format", "{{.Names}}"});
  EXPECT_EQ(left.out, "busy\n");
  ASSERT_EQ(docker({"rm", "-f", "busy"}).exit_code, 0);
  EXPECT_EQ(docker({"volume", "rm", "data"}).exit_code, 0);
  EXPECT_EQ(docker({"volume", "ls", "-q"}).out, "");
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

TEST_F(DockerApi, PublishedPortsAndNetworkModes) {
  auto port = free_port();
  ASSERT_TRUE(port);
  std::string p = std::to_string(*port);
  auto run =
      docker({"run", "-d", "--name", "pub", "-p", "127.0.0.1:" + p + ":8080", "busybox:1.0", "sh", "-c",
              "mkdir -p /www && echo hello-docker > /www/index.html && exec httpd -f -p 8080 -h /www"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto mapped = docker({"port", "pub"});
  EXPECT_EQ(mapped.out, "8080/tcp -> 127.0.0.1:" + p + "\n") << mapped.err;
  auto ps = docker({"ps", "--format", "{{.Ports}}"});
  EXPECT_NE(ps.out.find("127.0.0.1:" + p + "->8080/tcp"), std::string::npos) << ps.out;
  auto ip = docker({"inspect", "-f", "{{.NetworkSettings.IPAddress}}", "pub"});
  EXPECT_FALSE(ip.out.empty() || ip.out == "\n") << ip.err;
  std::string body;
  for (int i = 0; i < 50 && body.find("hello-docker") == std::string::npos; ++i) {
    auto r = run_process({"curl", "-s", "--max-time", "2", "http://127.0.0.1:" + p + "/index.html"});
    if (r) body = r->out;
    if (body.find("hello-docker") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(body, "hello-docker\n");
  auto none = docker({"run", "--rm", "--network", "none", "busybox:1.0", "sh", "-c", "ls /sys/class/net"});
  EXPECT_EQ(none.out, "lo\n") << none.err;
  EXPECT_EQ(docker({"rm", "-f", "pub"}).exit_code, 0);
}

}  // namespace
}  // namespace zl::testing

namespace zl::testing {
namespace {

TEST_F(DockerApi, UserNetworksWithNames) {
  auto created = docker({"network", "create", "--subnet", "10.200.77.0/24", "dockernet"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  auto ls = docker({"network", "ls", "--format", "{{.Name}} {{.Driver}}"});
  EXPECT_NE(ls.out.find("dockernet bridge"), std::string::npos) << ls.out;
  ASSERT_EQ(docker({"run", "-d", "--name", "db", "--network", "dockernet", "busybox:1.0", "sleep", "1000"})
                .exit_code,
            0);
  auto lookup =
      docker({"run", "--rm", "--network", "dockernet", "busybox:1.0", "sh", "-c", "ping -c1 -W2 db"});
  EXPECT_EQ(lookup.exit_code, 0) << lookup.out << lookup.err;
  EXPECT_NE(lookup.out.find("10.200.77."), std::string::npos) << lookup.out;
  auto subnet = docker({"network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "dockernet"});
  EXPECT_EQ(subnet.out, "10.200.77.0/24\n") << subnet.err;
  auto busy = docker({"network", "rm", "dockernet"});
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_NE(busy.err.find("in use"), std::string::npos) << busy.err;

  // connect/disconnect while it runs: a container of the default network joins dockernet with an
  // alias, is reached there by it, then leaves.
  ASSERT_EQ(docker({"run", "-d", "--name", "late", "busybox:1.0", "sleep", "1000"}).exit_code, 0);
  auto joined = docker({"network", "connect", "--alias", "cache", "dockernet", "late"});
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  auto twice = docker({"network", "connect", "dockernet", "late"});
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("already"), std::string::npos) << twice.err;
  auto nets = docker({"inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "late"});
  EXPECT_NE(nets.out.find("dockernet"), std::string::npos) << nets.out;
  auto via_alias = docker({"exec", "db", "ping", "-c1", "-W2", "cache"});
  EXPECT_EQ(via_alias.exit_code, 0) << via_alias.out << via_alias.err;
  ASSERT_EQ(docker({"network", "disconnect", "dockernet", "late"}).exit_code, 0);
  EXPECT_EQ(docker({"exec", "late", "ls", "/sys/class/net/eth1"}).exit_code, 1) << "eth1 is gone";
  EXPECT_NE(docker({"exec", "db", "ping", "-c1", "-W1", "cache"}).exit_code, 0);
  EXPECT_NE(docker({"network", "disconnect", "dockernet", "late"}).exit_code, 0);
  ASSERT_EQ(docker({"rm", "-f", "late"}).exit_code, 0);

  ASSERT_EQ(docker({"rm", "-f", "db"}).exit_code, 0);
  EXPECT_EQ(docker({"network", "rm", "dockernet"}).exit_code, 0);
  auto gone = docker({"network", "inspect", "dockernet"});
  EXPECT_NE(gone.exit_code, 0);
}

}  // namespace
}  // namespace zl::testing
