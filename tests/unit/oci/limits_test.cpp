// Limits: rlimits never above the host's hard limits, namespaced sysctls only, cgroup resources.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "oci/resources.h"
#include "oci/rlimits.h"
#include "oci/sysctls.h"

namespace zl {
namespace {

using json = nlohmann::json;

uint64_t real_hard_nofile() {
  struct rlimit r {};
  EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &r), 0);
  return r.rlim_max == RLIM_INFINITY ? UINT64_MAX : r.rlim_max;
}

TEST(Rlimits, DefaultNofileIsCappedAtTheHostsHardLimit) {
  HostInfo host = HostInfo::probe();
  EXPECT_EQ(host.rlimit_hard.at("nofile"), real_hard_nofile());
  auto r = build_rlimits({}, host);
  ASSERT_TRUE(r) << r.error().message;
  uint64_t want = std::min<uint64_t>(kDefaultNofile, real_hard_nofile());
  EXPECT_EQ(*r, json::parse(fmt::format(R"([{{"type": "RLIMIT_NOFILE", "soft": {0}, "hard": {0}}}])", want)));

  host.rlimit_hard["nofile"] = UINT64_MAX;
  EXPECT_EQ((*build_rlimits({}, host))[0]["hard"], kDefaultNofile);
}

TEST(Rlimits, UserLimitsReplaceDefaultsAndAcceptEveryNameForm) {
  HostInfo host = HostInfo::probe();
  auto r = build_rlimits({{"nofile", 100, 200}, {"RLIMIT_CORE", 0, 0}, {"Nproc", 10, 20}}, host);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, json::parse(R"([{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
                               {"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
                               {"type": "RLIMIT_NPROC", "soft": 10, "hard": 20}])"));
}

TEST(Rlimits, AboveTheHostsHardLimitIsRefused) {
  HostInfo host = HostInfo::probe();
  uint64_t hard = real_hard_nofile();
  ASSERT_NE(hard, UINT64_MAX) << "this test needs a finite hard nofile limit";
  auto r = build_rlimits({{"nofile", 1024, hard + 1}}, host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error().message.find("nofile"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(std::to_string(hard)), std::string::npos) << r.error().message;
  EXPECT_TRUE(build_rlimits({{"nofile", hard, hard}}, host));  // exactly the maximum is fine
}

TEST(Rlimits, BadRequestsAreRefused) {
  HostInfo host = HostInfo::probe();
  auto unknown = build_rlimits({{"files", 1, 1}}, host);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("files"), std::string::npos);
  auto inverted = build_rlimits({{"nofile", 20, 10}}, host);
  ASSERT_FALSE(inverted);
  EXPECT_EQ(inverted.error().kind, ErrorKind::invalid_argument);
}

TEST(Sysctls, NamespacedOnes) {
  for (const char* ok : {"net.ipv4.ip_forward", "net.core.somaxconn", "kernel.shmmax", "kernel.msgmnb",
                         "kernel.sem", "kernel.shm_rmid_forced", "fs.mqueue.msg_max"})
    EXPECT_TRUE(validate_sysctl(ok, false)) << ok;
  for (const char* bad : {"kernel.hostname", "vm.swappiness", "kernel.pid_max", "fs.file-max", "net..x",
                          "net/../../x", ".net.x", ""}) {
    auto r = validate_sysctl(bad, false);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(r.error().message.find(std::string("\"") + bad + "\""), std::string::npos) << r.error().message;
  }
}

TEST(Sysctls, NetOnlyWithItsOwnNetwork) {
  auto r = validate_sysctl("net.ipv4.ip_forward", /*host_network=*/true);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("host network"), std::string::npos);
  EXPECT_TRUE(validate_sysctl("kernel.shmmax", true));

  auto own = build_sysctls({{"net.ipv4.ip_unprivileged_port_start", "1024"}, {"kernel.shmmax", "1"}}, false);
  ASSERT_TRUE(own) << own.error().message;
  EXPECT_EQ(own->at("net.ipv4.ip_unprivileged_port_start"), "1024");  // the user's value beats the default
  EXPECT_EQ(own->at("kernel.shmmax"), "1");
  auto host = build_sysctls({}, true);
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->empty());  // no network defaults on the host's network
}

TEST(Resources, AllOfThem) {
  HostInfo host;
  host.cpus = 4;
  Resources r{.cpus = 1.5,
              .cpu_shares = 512,
              .cpuset_cpus = "0-1,3",
              .memory = 64 << 20,
              .memory_swap = 128 << 20,
              .pids_limit = 100};
  auto j = build_resources(r, host);
  ASSERT_TRUE(j) << j.error().message;
  EXPECT_EQ(*j, json::parse(R"({
    "cpu": {"period": 100000, "quota": 150000, "shares": 512, "cpus": "0-1,3"},
    "memory": {"limit": 67108864, "swap": 134217728},
    "pids": {"limit": 100}})"));
  EXPECT_EQ(*build_resources({}, host), json::object());
  EXPECT_EQ(*build_resources({.memory = 64 << 20, .memory_swap = -1}, host),
            json::parse(R"({"memory": {"limit": 67108864, "swap": -1}})"));
  EXPECT_EQ(*build_resources({.pids_limit = -1}, host), json::object());
}

TEST(Resources, OutOfRangeIsRefused) {
  HostInfo host;
  host.cpus = 2;
  for (const Resources& r : std::vector<Resources>{{.cpus = 0.001},
                                                   {.cpus = 3},
                                                   {.cpu_shares = 1},
                                                   {.cpu_shares = 300000},
                                                   {.cpuset_cpus = "0-2"},
                                                   {.cpuset_cpus = "1-0"},
                                                   {.cpuset_cpus = "a"},
                                                   {.cpuset_cpus = "0,,1"},
                                                   {.memory = 1024},
                                                   {.memory_swap = 1 << 30},
                                                   {.memory = 64 << 20, .memory_swap = 32 << 20},
                                                   {.pids_limit = -5}}) {
    auto j = build_resources(r, host);
    ASSERT_FALSE(j);
    EXPECT_EQ(j.error().kind, ErrorKind::invalid_argument) << j.error().message;
  }
}

}  // namespace
}  // namespace zl
