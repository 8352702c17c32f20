// Containers through the zlayer binary with the real OCI runtime under conmon: exit codes,
// the env/user/workdir merge, limits and capabilities seen from inside, logs, exec, stop
// escalation, OOM, and removal leaving nothing behind.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "fixtures/container_cli.h"
#include "oci/host_info.h"
#include "rootfs/overlay.h"

namespace zl::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

class CliContainers : public ContainerCliTest {
 protected:
  json inspect(const std::string& name) {
    auto r = zlayer({"inspect", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)[0] : json();
  }
};

TEST_F(CliContainers, ForegroundRunKeepsStreamsApartAndReturnsTheExitCode) {
  auto r = zlayer({"run", "--rm", "busybox:1.0", "sh", "-c", "echo hi; echo oops >&2; exit 7"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_EQ(r.out, "hi\n");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "") << "--rm removed it";
}

TEST_F(CliContainers, ForegroundRunPassesAllOutputInOrder) {
  auto r = zlayer({"run", "--rm", "busybox:1.0", "seq", "1", "100000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string want;
  for (int i = 1; i <= 100000; ++i) want += std::to_string(i) + "\n";
  EXPECT_TRUE(r.out == want) << r.out.size() << " bytes of output, " << want.size() << " expected";
}

TEST_F(CliContainers, RunRmRootIsScratch) {
  utsname u{};
  ASSERT_EQ(::uname(&u), 0);
  if (parse_kernel_version(u.release) < KernelVersion{5, 10}) GTEST_SKIP() << "overlayfs volatile needs Linux 5.10";
  // --rm: nothing of the container is synced, its overlay included (as podman does); a kept
  // container's overlay is the usual one.
  auto scratch = zlayer({"run", "--rm", "busybox:1.0", "grep", " / ", "/proc/mounts"});
  EXPECT_NE(scratch.out.find("volatile"), std::string::npos) << scratch.out << scratch.err;
  auto kept = zlayer({"run", "--name", "kept", "busybox:1.0", "grep", " / ", "/proc/mounts"});
  EXPECT_EQ(kept.out.find("volatile"), std::string::npos) << kept.out << kept.err;
  EXPECT_EQ(zlayer({"rm", "kept"}).exit_code, 0);
}

TEST_F(CliContainers, EnvUserWorkdirAndCommandMerge) {
  auto r = zlayer({"run", "--rm", "-e", "GREETING=hello", "-w", "/tmp", "-u", "65534", "--hostname", "box1",
                   "busybox:1.0", "sh", "-c", "echo $GREETING $(pwd) $(id -u) $(hostname) $PATH"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello /tmp 65534 box1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
  auto named = zlayer({"run", "--rm", "-u", "nobody", "busybox:1.0", "id"});
  EXPECT_EQ(named.out, "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n") << named.err;
  // The image's own command (/bin/sh with no tty) exits at once.
  EXPECT_EQ(zlayer({"run", "--rm", "busybox:1.0"}).exit_code, 0);
}

TEST_F(CliContainers, DefaultCapabilitiesLimitsAndReadOnlyRootAreInForce) {
  auto caps = zlayer({"run", "--rm", "busybox:1.0", "grep", "CapEff", "/proc/self/status"});
  EXPECT_EQ(caps.out, "CapEff:\t00000000a80425fb\n") << caps.err;  // docker's default set
  auto more = zlayer({"run", "--rm", "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "busybox:1.0", "grep", "CapEff",
                      "/proc/self/status"});
  EXPECT_EQ(more.out, "CapEff:\t00000000a00435fb\n") << more.err;
  auto mem = zlayer({"run", "--rm", "-m", "32m", "--pids-limit", "50", "busybox:1.0", "sh", "-c",
                     "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max"});
  EXPECT_EQ(mem.out, "33554432\n50\n") << mem.err;
  auto ro = zlayer({"run", "--rm", "--read-only", "busybox:1.0", "touch", "/x"});
  EXPECT_NE(ro.exit_code, 0);
  EXPECT_NE(ro.err.find("Read-only file system"), std::string::npos) << ro.err;
  auto mount = zlayer({"run", "--rm", "busybox:1.0", "mount", "-t", "tmpfs", "none", "/mnt"});
  EXPECT_NE(mount.exit_code, 0) << "mount needs CAP_SYS_ADMIN, which the default set lacks";
}

TEST_F(CliContainers, VolumesAndTmpfs) {
  fs::path host = dir_->path() / "data";
  fs::create_directories(host);
  std::ofstream(host / "in.txt") << "from host\n";
  auto r = zlayer({"run", "--rm", "-v", host.string() + ":/data", "--tmpfs", "/scratch", "busybox:1.0", "sh", "-c",
                   "cat /data/in.txt; echo out > /data/out.txt; grep /scratch /proc/mounts | cut -d' ' -f3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "from host\ntmpfs\n");
  std::ifstream out(host / "out.txt");
  std::string line;
  std::getline(out, line);
  EXPECT_EQ(line, "out");
  auto ro = zlayer({"run", "--rm", "-v", host.string() + ":/data:ro", "busybox:1.0", "touch", "/data/x"});
  EXPECT_NE(ro.exit_code, 0);
}

TEST_F(CliContainers, DetachedLifecycleExecLogsStopAndRemove) {
  auto d = zlayer({"run", "-d", "--name", "web", "busybox:1.0", "sh", "-c",
                   "trap '' TERM; echo started; echo warn >&2; while true; do sleep 1; done"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::string id = d.out.substr(0, 64);
  EXPECT_NE(zlayer({"ps"}).out.find("web"), std::string::npos);

  auto e = zlayer({"exec", "web", "sh", "-c", "echo in-exec; exit 3"});
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_EQ(e.out, "in-exec\n");
  auto missing = zlayer({"exec", "web", "/no/such/binary"});
  EXPECT_EQ(missing.exit_code, 127) << missing.err;

  for (int i = 0; i < 50 && zlayer({"logs", "web"}).out.empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto logs = zlayer({"logs", "web"});
  EXPECT_EQ(logs.out, "started\n");
  EXPECT_EQ(logs.err, "warn\n");
  EXPECT_EQ(zlayer({"logs", "--tail", "1", "-t", "web"}).err.find("warn"), 31u) << "RFC 3339 timestamp first";

  EXPECT_EQ(zlayer({"kill", "-s", "SIGFOO", "web"}).exit_code, 1);
  EXPECT_EQ(zlayer({"pause", "web"}).exit_code, 0);
  EXPECT_EQ(inspect("web")["State"]["Status"], "paused");
  EXPECT_EQ(zlayer({"unpause", "web"}).exit_code, 0);

  // The shell ignores SIGTERM: stop escalates to SIGKILL after the grace period.
  auto t0 = Clock::now();
  auto stop = zlayer({"stop", "-t", "1", "web"});
  auto took = Clock::now() - t0;
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(8));
  json s = inspect("web")["State"];
  EXPECT_EQ(s["ExitCode"], 137);
  EXPECT_EQ(s["Exit"]["reason"], "signal");
  EXPECT_EQ(s["Exit"]["signal"], 9);
  EXPECT_EQ(zlayer({"wait", "web"}).out, "137\n");

  // Started again, it keeps its writable layer.
  std::string rootfs = inspect("web")["GraphDriver"]["Data"]["MergedDir"];
  EXPECT_EQ(zlayer({"rm", "web"}).exit_code, 0);
  EXPECT_FALSE(fs::exists(root_ / "containers" / id));
  EXPECT_FALSE(is_mount_point(rootfs));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/memory/zlayer/" + id));
  EXPECT_FALSE(fs::exists("/sys/fs/cgroup/pids/zlayer/" + id));
}

TEST_F(CliContainers, RestartKeepsTheWritableLayer) {
  ASSERT_EQ(zlayer({"run", "--name", "keeper", "busybox:1.0", "sh", "-c", "echo x >> /state; cat /state | wc -l"}).out,
            "1\n");
  auto again = zlayer({"start", "-a", "keeper"});
  EXPECT_EQ(again.out, "1\n2\n") << again.err;  // the log holds both runs
}

TEST_F(CliContainers, SignalAndOomExitReasons) {
  // PID 1 cannot be SIGKILLed from inside its namespace: kill it from outside.
  ASSERT_EQ(zlayer({"run", "-d", "--name", "sleeper", "busybox:1.0", "sleep", "100"}).exit_code, 0);
  EXPECT_EQ(zlayer({"kill", "sleeper"}).exit_code, 0);
  EXPECT_EQ(zlayer({"wait", "sleeper"}).out, "137\n");
  json k = inspect("sleeper")["State"];
  EXPECT_EQ(k["Exit"]["reason"], "signal");
  EXPECT_EQ(k["Exit"]["signal"], 9);
  auto oom = zlayer({"run", "--name", "hog", "-m", "8m", "--memory-swap", "8m", "busybox:1.0", "sh", "-c",
                     "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done"});
  EXPECT_EQ(oom.exit_code, 137);
  json s = inspect("hog")["State"];
  EXPECT_EQ(s["OOMKilled"], true) << s.dump();
  EXPECT_EQ(s["Exit"]["reason"], "oom_killed");
}

TEST_F(CliContainers, BadInputIsAClearErrorAndLeavesNothing) {
  auto before = zlayer({"ps", "-a", "-q"}).out;
  auto user = zlayer({"run", "--rm", "-u", "nosuchuser", "busybox:1.0", "true"});
  EXPECT_EQ(user.exit_code, 1);
  EXPECT_NE(user.err.find("nosuchuser"), std::string::npos) << user.err;
  auto image = zlayer({"run", "--rm", "--pull", "never", "nosuchimage:1", "true"});
  EXPECT_EQ(image.exit_code, 1);
  EXPECT_NE(image.err.find("nosuchimage"), std::string::npos) << image.err;
  auto limit = zlayer({"run", "--rm", "--ulimit", "nofile=100000000:100000000", "busybox:1.0", "true"});
  EXPECT_EQ(limit.exit_code, 1);
  EXPECT_NE(limit.err.find("nofile"), std::string::npos) << limit.err;
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, before);
  std::error_code ec;
  size_t dirs = 0;
  for (auto& e : fs::directory_iterator(root_ / "containers", ec)) dirs += e.path().filename() != "names";
  EXPECT_EQ(dirs, 0u);
  EXPECT_EQ(zlayer({"stop", "nosuch"}).exit_code, 1);
}

TEST_F(CliContainers, ConcurrentCommandsNeverCorruptState) {
  // Six processes race for one name: exactly one wins, the others get a clear conflict.
  std::vector<std::thread> racers;
  std::vector<SubprocessResult> results(6);
  for (size_t i = 0; i < results.size(); ++i)
    racers.emplace_back([&, i] { results[i] = zlayer({"run", "-d", "--name", "contested", "busybox:1.0", "sleep", "60"}); });
  for (auto& t : racers) t.join();
  int won = 0;
  for (const auto& r : results) {
    if (r.exit_code == 0) {
      ++won;
    } else {
      EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(won, 1);

  // Stop, inspect and remove the same container at once: every command ends cleanly and the
  // container is gone afterwards, with nothing half-removed.
  std::vector<std::thread> workers;
  std::vector<SubprocessResult> ops(4);
  std::vector<std::vector<std::string>> cmds = {
      {"stop", "-t", "1", "contested"}, {"inspect", "contested"}, {"rm", "-f", "contested"}, {"rm", "-f", "contested"}};
  for (size_t i = 0; i < cmds.size(); ++i) workers.emplace_back([&, i] { ops[i] = zlayer(cmds[i]); });
  for (auto& t : workers) t.join();
  for (const auto& r : ops) {
    if (r.exit_code != 0) {
      EXPECT_NE(r.err.find("no such container"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
  size_t dirs = 0;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root_ / "containers", ec)) dirs += e.path().filename() != "names";
  EXPECT_EQ(dirs, 0u);
  EXPECT_TRUE(fs::is_empty(root_ / "containers" / "names"));
}

}  // namespace
}  // namespace zl::testing
