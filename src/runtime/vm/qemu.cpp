#include "runtime/vm/qemu.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/subprocess.h"

namespace zl::vm {

using namespace std::chrono_literals;
using json = nlohmann::json;

std::string qemu_binary() {
  if (const char* env = std::getenv("ZLAYER_VM_QEMU"); env && *env) return env;
  return "qemu-system-x86_64";
}

std::vector<std::string> qemu_argv(const VmAssets& assets, const QemuConfig& cfg) {
  // tsc_early_khz: without it TCG can hang calibrating the TSC. panic=-1 + -no-reboot: a guest
  // panic ends qemu (the console log then says why). quiet: the console costs time under TCG.
  std::string cmdline = fmt::format(
      "console=ttyS0 quiet tsc_early_khz=2000000 panic=-1 rdinit=/init zlayer.port={} zlayer.ports={}",
      cfg.port, kAgentPorts);
  cmdline += fmt::format(" zlayer.time={}", std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  if (!cfg.extra_cmdline.empty()) cmdline += " " + cfg.extra_cmdline;
  // clang-format off
  std::vector<std::string> a = {
      qemu_binary(), "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=on", "-nodefaults", "-no-user-config",
      "-display", "none", "-no-reboot", "-accel", cfg.accel,
      "-m", std::to_string(cfg.memory_mib), "-smp", std::to_string(cfg.cpus),
      "-kernel", assets.kernel.string(), "-initrd", assets.initramfs.string(), "-append", cmdline,
      "-chardev", fmt::format("file,id=con,path={}", console_log(cfg.dir).string()), "-serial", "chardev:con",
      "-device", "virtio-serial-device", "-qmp", "unix:qmp.sock,server=on,wait=off"};
  // clang-format on
  for (int i = 0; i < kAgentPorts; ++i) {
    // Relative (qemu starts in the VM's directory): a unix socket's path has 107 bytes at most.
    a.insert(a.end(),
             {"-chardev",
              fmt::format("socket,id=agent{},path={},server=on,wait=off", i, agent_socket_name(i)), "-device",
              fmt::format("virtserialport,chardev=agent{},name={}{}", i, cfg.port,
                          i == 0 ? "" : "." + std::to_string(i))});
  }
  if (cfg.accel == "kvm") a.insert(a.end(), {"-cpu", "host"});
  auto share = [&](const std::string& tag, const fs::path& path, bool ro) {
    a.insert(a.end(), {"-fsdev",
                       fmt::format("local,id=fs{},path={},security_model=passthrough{}", tag, path.string(),
                                   ro ? ",readonly=on" : ""),
                       "-device", fmt::format("virtio-9p-device,fsdev=fs{},mount_tag={}", tag, tag)});
  };
  share("rootfs", cfg.rootfs, false);
  share("state", cfg.state, false);
  share("debug", cfg.debug, false);
  for (const auto& s : cfg.shares) share(s.tag, s.path, s.read_only);
  if (cfg.tap) {
    a.insert(a.end(), {"-netdev", fmt::format("tap,id=net0,ifname={},script=no,downscript=no", *cfg.tap),
                       "-device", fmt::format("virtio-net-device,netdev=net0,mac={}", cfg.mac)});
  }
  return a;
}

Result<int> launch_qemu(const VmAssets& assets, const QemuConfig& cfg, const fs::path& netns) {
  std::vector<std::string> argv = qemu_argv(assets, cfg);
  argv.insert(argv.end(), {"-daemonize", "-pidfile", pid_file(cfg.dir).string()});
  if (!netns.empty()) argv.insert(argv.begin(), {"nsenter", "--net=" + netns.string(), "--"});
  ZL_TRY_ASSIGN(auto r, run_process(argv, SubprocessOptions{.cwd = cfg.dir.string(), .timeout = 60s}));
  if (!r.ok()) {
    (void)write_file_atomic(cfg.dir / "qemu.err", r.err, 0600, Sync::atomic);
    return unavailable("qemu did not start the VM: {}", r.describe());
  }
  int pid = running_qemu(cfg.dir);
  if (pid <= 0)
    return unavailable("qemu daemonized but its pid file {} names no VM", pid_file(cfg.dir).string());
  return pid;
}

int running_qemu(const fs::path& dir) {
  auto text = read_file(pid_file(dir));
  if (!text) return 0;
  int pid = std::atoi(text->c_str());
  if (pid <= 0) return 0;
  auto cmdline = read_file(fmt::format("/proc/{}/cmdline", pid));
  if (!cmdline || cmdline->find(pid_file(dir).string()) == std::string::npos) return 0;
  // A zombie (qemu exited, not reaped yet) has an empty cmdline: not running.
  return pid;
}

Status kill_qemu(const fs::path& dir) {
  int pid = running_qemu(dir);
  if (pid <= 0) return {};
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 1000; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return {};
    auto stat = read_file(fmt::format("/proc/{}/stat", pid));
    if (stat && stat->find(") Z ") != std::string::npos && running_qemu(dir) == 0) return {};
    std::this_thread::sleep_for(10ms);
  }
  return unavailable("qemu {} of VM {} did not exit after SIGKILL", pid, dir.string());
}

namespace {

// Boots the agent in probe mode with KVM: does the guest come up?
std::optional<std::string> probe_kvm(const VmAssets& assets) {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return fmt::format("/dev/kvm cannot be opened ({})", strerror(errno));
  ::close(fd);
  auto tmp = TempDir::create(vm_cache_dir(), ".probe-");
  if (!tmp) return "no temp dir for the KVM probe: " + tmp.error().message;
  QemuConfig cfg{.dir = tmp->path(),
                 .rootfs = tmp->path(),
                 .state = tmp->path(),
                 .debug = tmp->path(),
                 .port = "zlayer.probe",
                 .memory_mib = 256,
                 .accel = "kvm",
                 .extra_cmdline = "zlayer.probe=1"};
  auto r =
      run_process(qemu_argv(assets, cfg), SubprocessOptions{.cwd = tmp->path().string(), .timeout = 20s});
  auto console = read_file(console_log(tmp->path())).value_or("");
  if (console.find("probe ok") != std::string::npos) return std::nullopt;
  if (!r) return "qemu could not be started: " + r.error().message;
  return fmt::format("/dev/kvm did not boot the guest ({})",
                     r->timed_out ? "no boot in 20 s" : r->describe());
}

}  // namespace

Accelerator select_accelerator(const VmAssets& assets) {
  if (const char* env = std::getenv("ZLAYER_VM_ACCEL"); env && *env)
    return {env, fmt::format("forced by ZLAYER_VM_ACCEL={}", env)};
  fs::path cache = vm_cache_dir() / "accel.json";
  if (auto text = read_file(cache)) {
    try {
      auto j = json::parse(*text);
      if (j.value("release", "") == assets.release &&
          j.value("kvm", "") == (access("/dev/kvm", F_OK) == 0 ? "yes" : "no"))
        return {j.at("name").get<std::string>(), j.at("reason").get<std::string>()};
    } catch (const std::exception&) {
    }
  }
  Accelerator a;
  if (auto why_not = probe_kvm(assets)) {
    a = {"tcg", "software emulation (TCG): " + *why_not};
    spdlog::warn("micro-VMs run on {} (slower than KVM; `zlayer info` says so too)", a.reason);
  } else {
    a = {"kvm", "KVM: /dev/kvm booted the guest"};
  }
  json j{{"name", a.name},
         {"reason", a.reason},
         {"release", assets.release},
         {"kvm", access("/dev/kvm", F_OK) == 0 ? "yes" : "no"}};
  (void)write_file_atomic(cache, j.dump(), 0644);
  return a;
}

}  // namespace zl::vm
