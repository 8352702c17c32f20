// isolation: vm (issue 10) through the zlayer binary: real qemu micro-VMs (TCG on machines
// without a usable KVM), the kernel scripts/prepare-vm.sh extracted, the busybox test image.
// Each boot costs ~2-3 s on TCG, so one VM serves several assertions where it can.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "fixtures/container_cli.h"
#include "fixtures/net_slot.h"
#include "rootfs/overlay.h"

namespace zl::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const fs::path kVmCache = "/var/cache/zlayer/vm/current";

// Sets an environment variable for the zlayer processes this test starts, until it goes.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

class VmIsolation : public ContainerCliTest {
 protected:
  void SetUp() override {
    if (!fs::exists(kVmCache / "vmlinux") || find_program("qemu-system-x86_64").empty())
      GTEST_SKIP() << "no micro-VM kernel or qemu: run scripts/setup-deps.sh";
    auto slot = net_.acquire();  // a network of our own: addresses no other test's container has
    ASSERT_TRUE(slot) << slot.error().message;
    ContainerCliTest::SetUp();
  }
  void TearDown() override {
    if (IsSkipped()) return;
    ContainerCliTest::TearDown();
    net_.release();
  }
  NetSlot net_;

  json inspect(const std::string& name) {
    auto r = zlayer({"inspect", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)[0] : json();
  }

  // qemu processes of VMs under our root (their command lines name the VM's directory).
  int qemu_processes() {
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      auto cmdline = read_file(e.path() / "cmdline");
      if (cmdline && cmdline->find("qemu-system") != std::string::npos &&
          cmdline->find((root_ / "vms").string()) != std::string::npos)
        ++n;
    }
    return n;
  }

  // Nothing of a container and its VM is left: no directory, no qemu, no mount.
  void expect_gone(const std::string& id) {
    EXPECT_FALSE(fs::exists(root_ / "containers" / id));
    EXPECT_FALSE(fs::exists(root_ / "vms" / id));
    EXPECT_EQ(qemu_processes(), 0);
    auto mounts = read_file("/proc/self/mountinfo");
    ASSERT_TRUE(mounts);
    EXPECT_EQ(mounts->find(id), std::string::npos);
  }

  std::string release() {
    std::string r = read_file(kVmCache / "release").value_or("");
    while (!r.empty() && r.back() == '\n') r.pop_back();
    return r;
  }
};

TEST_F(VmIsolation, RunPrintsTheGuestKernelAndTheExitCode) {
  fs::path host = dir_->path() / "host";
  fs::create_directories(host);
  ASSERT_TRUE(write_file_atomic(host / "in", "from-host\n"));
  auto r =
      zlayer({"run", "--isolation", "vm", "--rm", "-v", host.string() + ":/data", "--tmpfs", "/scratch",
              "busybox:1.0", "sh", "-c",
              "uname -r; cat /data/in; echo from-vm > /data/out; grep -c ' /scratch tmpfs' /proc/mounts; "
              "echo oops >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, release() + "\nfrom-host\n1\n");
  EXPECT_EQ(read_file(host / "out").value_or(""), "from-vm\n") << "a bind mount is the host's directory";
  EXPECT_NE(r.err.find("oops\n"), std::string::npos) << r.err;
  // The release is the extracted kernel's own ("Linux version <release> ..." in the vmlinux).
  std::ifstream kernel(kVmCache / "vmlinux", std::ios::binary);
  std::string image((std::istreambuf_iterator<char>(kernel)), std::istreambuf_iterator<char>());
  EXPECT_NE(image.find("Linux version " + release() + " "), std::string::npos);
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
  EXPECT_TRUE(!fs::exists(root_ / "vms") || fs::is_empty(root_ / "vms"));
  EXPECT_EQ(qemu_processes(), 0);
  // `zlayer info` says which accelerator the VMs got, and why.
  auto info = zlayer({"info"});
  EXPECT_NE(info.out.find("VM accelerator: "), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("VM kernel: " + release()), std::string::npos) << info.out;
}

TEST_F(VmIsolation, DetachedVmExecLogsStatsNetworkStopKillAndRemove) {
  auto d =
      zlayer({"run", "-d", "--isolation", "vm", "-m", "192m", "--name", "vm1", "busybox:1.0", "sh", "-c",
              "trap '' TERM; mkdir -p /www; echo hello-from-vm > /www/index.html; httpd -p 8080 -h /www; "
              "echo started; echo warn >&2; while true; do sleep 1; done"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::string id = d.out.substr(0, 64);
  json st = inspect("vm1")["State"];
  EXPECT_EQ(st["Status"], "running");
  EXPECT_EQ(qemu_processes(), 1);
  EXPECT_TRUE(fs::exists(root_ / "vms" / id / "vm.json"));

  auto e = zlayer({"exec", "vm1", "sh", "-c", "echo in-exec; uname -r; exit 3"});
  EXPECT_EQ(e.exit_code, 3) << e.err;
  EXPECT_EQ(e.out, "in-exec\n" + release() + "\n");
  auto missing = zlayer({"exec", "vm1", "/no/such/binary"});
  EXPECT_EQ(missing.exit_code, 127) << missing.err;
  // The agent wrote its boot diagnostics into the debug share.
  EXPECT_NE(read_file(root_ / "vms" / id / "debug" / "boot.log").value_or("").find("container started"),
            std::string::npos);

  for (int i = 0; i < 50 && zlayer({"logs", "vm1"}).out.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto logs = zlayer({"logs", "vm1"});
  EXPECT_EQ(logs.out, "started\n");
  EXPECT_EQ(logs.err, "warn\n");

  // On the container network like any container: from the host and from a process container.
  json net = inspect("vm1")["NetworkSettings"];
  std::string ip = net["IPAddress"];
  ASSERT_FALSE(ip.empty());
  Result<SubprocessResult> curl;
  for (int i = 0; i < 50; ++i) {  // httpd binds in a moment (its daemon child, after "started")
    curl = run_process({"curl", "-s", "-m", "10", "http://" + ip + ":8080/index.html"});
    if (!curl || curl->ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(curl);
  EXPECT_EQ(curl->out, "hello-from-vm\n") << curl->err;
  auto wget = zlayer({"run", "--rm", "busybox:1.0", "wget", "-qO-", "http://" + ip + ":8080/index.html"});
  EXPECT_EQ(wget.out, "hello-from-vm\n") << wget.err;
  std::string netns = net["SandboxKey"];

  // An exec that runs on leaves the agent's other channels free (stats here).
  std::thread long_exec([&] { EXPECT_EQ(zlayer({"exec", "vm1", "sleep", "3"}).exit_code, 0); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto stats_t0 = Clock::now();
  auto stats = zlayer({"stats", "--no-stream", "vm1"});
  EXPECT_LT(Clock::now() - stats_t0, std::chrono::milliseconds(2500)) << "stats waited for the exec";
  long_exec.join();
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find(" / 201MB"), std::string::npos)
      << "memory limit = the VM's size (192 MiB): " << stats.out;

  // Paused: the whole VM is frozen (qemu's vCPUs); its channels wait, then go on.
  EXPECT_EQ(zlayer({"pause", "vm1"}).exit_code, 0);
  EXPECT_EQ(inspect("vm1")["State"]["Status"], "paused");
  EXPECT_EQ(zlayer({"unpause", "vm1"}).exit_code, 0);
  EXPECT_EQ(inspect("vm1")["State"]["Status"], "running");
  EXPECT_EQ(zlayer({"exec", "vm1", "true"}).exit_code, 0);

  // The shell ignores SIGTERM: stop escalates to SIGKILL after the grace period.
  auto t0 = Clock::now();
  auto stop = zlayer({"stop", "-t", "1", "vm1"});
  auto took = Clock::now() - t0;
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(10));
  st = inspect("vm1")["State"];
  EXPECT_EQ(st["ExitCode"], 137);
  EXPECT_EQ(st["Exit"]["reason"], "signal");
  for (int i = 0; i < 100 && qemu_processes() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(qemu_processes(), 0) << "the VM powers off when its container exits";

  // Started again (a fresh boot, the same writable layer), then killed.
  ASSERT_EQ(zlayer({"start", "vm1"}).exit_code, 0);
  EXPECT_EQ(inspect("vm1")["State"]["Status"], "running");
  auto kill = zlayer({"kill", "vm1"});
  EXPECT_EQ(kill.exit_code, 0) << kill.err;
  EXPECT_EQ(zlayer({"wait", "vm1"}).out, "137\n");

  EXPECT_EQ(zlayer({"rm", "vm1"}).exit_code, 0);
  expect_gone(id);
  EXPECT_FALSE(fs::exists(netns)) << "the namespace, and the VM's tap in it, are gone";
}

TEST_F(VmIsolation, GuestPanicIsRecordedInTheCrashDirAndKeptOnFailure) {
  auto d = zlayer({"run", "-d", "--isolation", "vm", "--name", "doomed", "busybox:1.0", "sleep", "100"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::string id = d.out.substr(0, 64);
  zlayer({"exec", "doomed", "sh", "-c", "echo c > /proc/sysrq-trigger"});
  auto w = zlayer({"wait", "doomed"});
  json st = inspect("doomed")["State"];
  EXPECT_EQ(st["Status"], "exited");
  EXPECT_EQ(st["Exit"]["reason"], "runtime_error");
  EXPECT_NE(st["Error"].get<std::string>().find("Kernel panic"), std::string::npos) << st.dump();
  fs::path crash = root_ / "vms" / id / "crash";
  ASSERT_TRUE(fs::exists(crash));
  int records = 0;
  for (const auto& f : fs::directory_iterator(crash)) {
    ++records;
    EXPECT_NE(read_file(f.path()).value_or("").find("Kernel panic"), std::string::npos);
  }
  EXPECT_EQ(records, 1);
  EXPECT_FALSE(fs::exists(root_ / "vms" / id / "debug" / "crash")) << "the crash record is host-only";

  {  // Keep-on-failure: the failed VM's directory outlives its container.
    ScopedEnv keep("ZLAYER_KEEP_VM_ON_FAILURE", "1");
    EXPECT_EQ(zlayer({"rm", "doomed"}).exit_code, 0);
  }
  EXPECT_FALSE(fs::exists(root_ / "containers" / id));
  EXPECT_TRUE(fs::exists(crash));
  EXPECT_EQ(qemu_processes(), 0);
  (void)remove_tree(root_ / "vms" / id);
}

TEST_F(VmIsolation, AVmThatCannotStartRollsBackOrIsKept) {
  ScopedEnv qemu("ZLAYER_VM_QEMU", "false");  // a qemu that fails at once
  auto r = zlayer({"run", "--isolation", "vm", "--name", "broken", "busybox:1.0", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("qemu did not start the VM"), std::string::npos) << r.err;
  std::string id = inspect("broken")["Id"];
  EXPECT_EQ(zlayer({"rm", "broken"}).exit_code, 0);
  expect_gone(id);

  ScopedEnv keep("ZLAYER_KEEP_VM_ON_FAILURE", "1");
  auto kept = zlayer({"run", "--isolation", "vm", "--rm", "busybox:1.0", "true"});
  EXPECT_NE(kept.exit_code, 0);
  ASSERT_TRUE(fs::exists(root_ / "vms"));
  int dirs = 0;
  for (const auto& v : fs::directory_iterator(root_ / "vms")) {
    ++dirs;
    EXPECT_TRUE(fs::exists(v.path() / "failed"));
    EXPECT_TRUE(fs::exists(v.path() / "vm.json"));
  }
  EXPECT_EQ(dirs, 1);
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "") << "the container itself is gone with --rm";
}

}  // namespace
}  // namespace zl::testing
