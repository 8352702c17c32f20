#include <gtest/gtest.h>

#include "runtime/linux/cgroup_parse.h"

namespace zl {
namespace {

// This machine's layout: v1 hierarchies (cpu and cpuacct apart) plus a cgroup2 with no controllers.
constexpr std::string_view kHybridMountinfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "50 31 0:39 / /sys/fs/cgroup/net\\040cls rw - cgroup cgroup rw,net_cls,net_prio\n";

TEST(CgroupMounts, FindsV1ControllersAndTheUnifiedMount) {
  auto m = parse_cgroup_mounts(kHybridMountinfo);
  EXPECT_EQ(m.v1.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(m.v1.at("cpuacct"), "/sys/fs/cgroup/cpuacct");
  EXPECT_EQ(m.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(m.v1.at("net_prio"), "/sys/fs/cgroup/net cls");
  EXPECT_FALSE(m.v1.count("rw"));
  ASSERT_TRUE(m.unified);
  EXPECT_EQ(*m.unified, "/sys/fs/cgroup/unified");
}

TEST(CgroupMounts, UnifiedOnly) {
  auto m = parse_cgroup_mounts("30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_TRUE(m.v1.empty());
  EXPECT_EQ(m.unified, fs::path("/sys/fs/cgroup"));
}

TEST(CgroupFiles, FlatKeyed) {
  auto cpu = parse_flat_keyed("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nbad line here\n");
  EXPECT_EQ(cpu["usage_usec"], 123456u);
  EXPECT_EQ(cpu.count("bad"), 0u);
  auto oom = parse_flat_keyed("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  EXPECT_EQ(oom["oom_kill"], 1u);
  auto events = parse_flat_keyed("low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n");
  EXPECT_EQ(events["oom_kill"], 2u);
}

TEST(CgroupFiles, Limits) {
  EXPECT_EQ(*parse_limit("8388608\n"), 8388608u);
  EXPECT_EQ(*parse_limit("max\n"), std::nullopt);
  EXPECT_EQ(*parse_limit("9223372036854771712\n"), 9223372036854771712u);
  EXPECT_FALSE(parse_limit("lots"));
}

TEST(CgroupFiles, BlkioV1) {
  auto io = parse_blkio_service_bytes(
      "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\n"
      "8:16 Read 1\n8:16 Write 2\nTotal 12291\n");
  EXPECT_EQ(io.read, 4097u);
  EXPECT_EQ(io.write, 8194u);
  auto none = parse_blkio_service_bytes("Total 0\n");
  EXPECT_EQ(none.read + none.write, 0u);
}

TEST(CgroupFiles, IoStatV2) {
  auto io = parse_io_stat(
      "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
      "253:1 rbytes=10 wbytes=20 rios=1 wios=1 dbytes=0 dios=0\n");
  EXPECT_EQ(io.read, 4106u);
  EXPECT_EQ(io.write, 8212u);
}

TEST(CgroupFiles, Meminfo) {
  EXPECT_EQ(parse_meminfo_total("MemTotal:        2030712 kB\nMemFree:  1 kB\n"), 2030712u * 1024);
  EXPECT_EQ(parse_meminfo_total("nothing\n"), 0u);
}

}  // namespace
}  // namespace zl
