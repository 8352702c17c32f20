// isolation: vm pieces that need no VM: the host-guest frames, the initramfs's cpio, the qemu
// command line, the label the front ends ask with.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/vm/guest/protocol.h"
#include "runtime/vm/qemu.h"
#include "runtime/vm/vm_assets.h"
#include "runtime/vm/vm_runtime.h"

namespace zl::vm {
namespace {

TEST(VmProtocol, FramesRoundTripAndSplitAnywhere) {
  std::string stream = vmproto::frame('J', R"({"op":"ping"})") + vmproto::frame('O', std::string("a\0b", 3)) +
                       vmproto::frame('I', "");
  std::string buf;
  std::vector<std::pair<char, std::string>> got;
  for (char c : stream) {  // byte by byte: a frame is taken only once whole
    buf.push_back(c);
    char type;
    std::string payload;
    bool bad = false;
    while (vmproto::take_frame(buf, type, payload, bad)) got.emplace_back(type, payload);
    ASSERT_FALSE(bad);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], std::make_pair('J', std::string(R"({"op":"ping"})")));
  EXPECT_EQ(got[1], std::make_pair('O', std::string("a\0b", 3)));
  EXPECT_EQ(got[2], std::make_pair('I', std::string()));
  EXPECT_TRUE(buf.empty());
}

TEST(VmProtocol, ALengthOfZeroOrTooBigIsABrokenStream) {
  for (std::string buf : {std::string("\0\0\0\0J", 5), std::string("\x7f\0\0\0J", 5)}) {
    char type;
    std::string payload;
    bool bad = false;
    EXPECT_FALSE(vmproto::take_frame(buf, type, payload, bad));
    EXPECT_TRUE(bad);
  }
}

TEST(VmInitramfs, CpioIsNewcWithAlignedEntriesAndATrailer) {
  CpioWriter w;
  w.dir("dev");
  w.file("init", "#!x", 0755);
  std::string a = w.finish();
  EXPECT_EQ(a.rfind("070701", 0), 0u);
  EXPECT_EQ(a.size() % 4, 0u);
  auto init = a.find("init");
  ASSERT_NE(init, std::string::npos);
  // mode 0100755, size 3 in the header before the name.
  std::string header = a.substr(init - 110, 110);
  EXPECT_EQ(header.substr(14, 8), "000081ED");
  EXPECT_EQ(header.substr(54, 8), "00000003");
  EXPECT_NE(a.find("TRAILER!!!"), std::string::npos);
}

TEST(VmQemu, CommandLineIsMicrovmWithoutDefaultsAndTheSharesAndPort) {
  VmAssets assets{.kernel = "/k/vmlinux", .initramfs = "/k/initramfs.cpio", .release = "6.1"};
  QemuConfig cfg{.dir = "/vms/x",
                 .rootfs = "/c/rootfs",
                 .state = "/vms/x/state",
                 .debug = "/vms/x/debug",
                 .port = "zlayer.abc",
                 .cpus = 2,
                 .memory_mib = 192,
                 .accel = "tcg"};
  auto argv = qemu_argv(assets, cfg);
  auto has = [&](const std::string& s) {
    return std::any_of(argv.begin(), argv.end(),
                       [&](const std::string& a) { return a.find(s) != std::string::npos; });
  };
  EXPECT_TRUE(has("microvm"));
  EXPECT_TRUE(has("-nodefaults"));
  EXPECT_TRUE(has("-no-user-config"));
  EXPECT_TRUE(has("tsc_early_khz=2000000"));
  EXPECT_TRUE(has("zlayer.port=zlayer.abc"));
  EXPECT_TRUE(has("virtserialport,chardev=agent0,name=zlayer.abc"));
  EXPECT_TRUE(has("virtserialport,chardev=agent1,name=zlayer.abc.1"));
  EXPECT_TRUE(has("path=/c/rootfs"));
  EXPECT_TRUE(has("mount_tag=state"));
  EXPECT_TRUE(has("mount_tag=debug"));
  EXPECT_FALSE(has("virtio-net")) << "no NIC without a network";
  EXPECT_EQ(*(std::find(argv.begin(), argv.end(), "-m") + 1), "192");
  EXPECT_EQ(*(std::find(argv.begin(), argv.end(), "-smp") + 1), "2");
  cfg.tap = "tap0";
  cfg.mac = "02:00:00:00:00:01";
  argv = qemu_argv(assets, cfg);
  EXPECT_TRUE(has("virtio-net-device,netdev=net0,mac=02:00:00:00:00:01"));
}

TEST(VmIsolationLabel, OnlyVmAsksForAVm) {
  ContainerSpec s;
  EXPECT_FALSE(is_vm(s));
  s.labels[kIsolationLabel] = "process";
  EXPECT_FALSE(is_vm(s));
  s.labels[kIsolationLabel] = "vm";
  EXPECT_TRUE(is_vm(s));
}

}  // namespace
}  // namespace zl::vm
