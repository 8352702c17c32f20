// Seccomp: docker's embedded default profile converted for the container's capabilities and the
// host's arch and kernel; "unconfined", privileged, custom profiles in docker and OCI format.
#include <gtest/gtest.h>

#include "oci/seccomp.h"
#include "unit/oci/oci_test_util.h"

namespace zl {
namespace {

using json = nlohmann::json;

HostInfo x86_host(KernelVersion kernel = {6, 1}) {
  HostInfo h;
  h.arch = "x86_64";
  h.kernel = kernel;
  return h;
}

std::set<std::string> default_caps() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

// Rules (action, args) that name the syscall.
std::vector<json> rules_for(const json& seccomp, const std::string& syscall) {
  std::vector<json> out;
  for (const auto& r : seccomp["syscalls"])
    if (test::contains(r["names"], syscall)) out.push_back(r);
  return out;
}

bool allowed_unconditionally(const json& seccomp, const std::string& syscall) {
  for (const auto& r : rules_for(seccomp, syscall))
    if (r["action"] == "SCMP_ACT_ALLOW" && !r.contains("args")) return true;
  return false;
}

json default_profile() {
  return json::parse(docker_default_seccomp_profile());
}

TEST(Seccomp, EmbeddedProfileIsDockers) {
  json p = default_profile();
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_TRUE(p.contains("archMap"));
  EXPECT_GT(p["syscalls"].size(), 10u);
}

TEST(Seccomp, DefaultProfileForDefaultCaps) {
  auto s = convert_seccomp_profile(default_profile(), default_caps(), x86_host());
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ((*s)["architectures"], json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_TRUE(allowed_unconditionally(*s, "read"));
  EXPECT_TRUE(allowed_unconditionally(*s, "arch_prctl"));  // amd64-only rule kept
  EXPECT_FALSE(allowed_unconditionally(*s, "set_tls"));    // arm-only rule dropped
  EXPECT_TRUE(allowed_unconditionally(*s, "chroot"));      // CAP_SYS_CHROOT is a default
  EXPECT_FALSE(allowed_unconditionally(*s, "mount"));      // needs CAP_SYS_ADMIN
  // clone only without namespace flags; clone3 answers ENOSYS so libc falls back to clone.
  auto clone = rules_for(*s, "clone");
  ASSERT_EQ(clone.size(), 1u);
  EXPECT_EQ(clone[0]["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone[0]["args"][0]["index"], 0);
  auto clone3 = rules_for(*s, "clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]["errnoRet"], 38);
  for (const auto& r : (*s)["syscalls"]) {  // docker-only keys are gone
    EXPECT_FALSE(r.contains("includes"));
    EXPECT_FALSE(r.contains("comment"));
  }
}

TEST(Seccomp, SysAdminSyscallsOnlyWithCapSysAdmin) {
  auto without = convert_seccomp_profile(default_profile(), default_caps(), x86_host());
  auto caps = default_caps();
  caps.insert("CAP_SYS_ADMIN");
  auto with = convert_seccomp_profile(default_profile(), caps, x86_host());
  ASSERT_TRUE(without && with);
  for (const char* sc : {"mount", "umount2", "unshare", "setns", "sethostname"}) {
    EXPECT_FALSE(allowed_unconditionally(*without, sc)) << sc;
    EXPECT_TRUE(allowed_unconditionally(*with, sc)) << sc;
  }
  auto clone3 = rules_for(*with, "clone3");  // allowed, and no ENOSYS rule any more
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]["action"], "SCMP_ACT_ALLOW");
}

TEST(Seccomp, MinKernelIsHonoured) {
  auto old_kernel = convert_seccomp_profile(default_profile(), default_caps(), x86_host({4, 4}));
  auto new_kernel = convert_seccomp_profile(default_profile(), default_caps(), x86_host({4, 8}));
  ASSERT_TRUE(old_kernel && new_kernel);
  EXPECT_FALSE(allowed_unconditionally(*old_kernel, "ptrace"));  // ptrace without caps needs 4.8
  EXPECT_TRUE(allowed_unconditionally(*new_kernel, "ptrace"));
}

TEST(Seccomp, UnconfinedAndPrivilegedHaveNone) {
  auto host = HostInfo::probe();
  auto unconfined = seccomp_for("unconfined", false, default_caps(), host);
  ASSERT_TRUE(unconfined);
  EXPECT_FALSE(unconfined->has_value());
  auto privileged = seccomp_for("", true, default_caps(), host);
  ASSERT_TRUE(privileged);
  EXPECT_FALSE(privileged->has_value());
  auto deflt = seccomp_for("", false, default_caps(), host);
  ASSERT_TRUE(deflt) << deflt.error().message;
  ASSERT_TRUE(deflt->has_value());
  EXPECT_EQ((**deflt)["defaultAction"], "SCMP_ACT_ERRNO");
}

TEST(Seccomp, CustomProfilesInDockerAndOciFormat) {
  test::TestRootfs dir;
  fs::path docker_fmt = dir.base() / "docker.json";
  ASSERT_TRUE(write_file_atomic(docker_fmt, R"({
    "defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": []}],
    "syscalls": [
      {"name": "reboot", "action": "SCMP_ACT_ERRNO", "args": null, "comment": "no"},
      {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "excludes": {"caps": ["CAP_SYS_PACCT"]}},
      {"names": ["iopl"], "action": "SCMP_ACT_KILL", "includes": {"arches": ["arm64"]}}
    ]})"));
  auto d = seccomp_for(docker_fmt, false, default_caps(), x86_host());
  ASSERT_TRUE(d) << d.error().message;
  json expected = json::parse(R"({
    "defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1,
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    "syscalls": [{"names": ["reboot"], "action": "SCMP_ACT_ERRNO"},
                 {"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]})");
  EXPECT_EQ(**d, expected) << (**d).dump(2);

  fs::path oci_fmt = dir.base() / "oci.json";
  json oci = json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                 {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                  "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})");
  ASSERT_TRUE(write_file_atomic(oci_fmt, oci.dump()));
  auto o = seccomp_for(oci_fmt, false, default_caps(), x86_host());
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(**o, oci);
}

TEST(Seccomp, BadProfilesAreRefused) {
  test::TestRootfs dir;
  struct Case {
    const char* json;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"syscalls": []})", "defaultAction"},
           {R"({"defaultAction": "SCMP_ACT_NOPE"})", "SCMP_ACT_NOPE"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW"}]})",
            "ALLOW"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]})",
            "names no syscall"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_VAX"]})", "SCMP_ARCH_VAX"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})",
            "not both"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
                "includes": {"minKernel": "four"}}]})",
            "minKernel"},
           {R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]})",
            "op"},
           {"not json", "not valid JSON"},
       }) {
    fs::path p = dir.base() / "profile.json";
    ASSERT_TRUE(write_file_atomic(p, c.json));
    auto r = seccomp_for(p, false, default_caps(), x86_host());
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument) << c.json;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(p.string()), std::string::npos) << r.error().message;
  }
  auto missing = seccomp_for((dir.base() / "absent.json").string(), false, default_caps(), x86_host());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace zl
