#include "runtime/windows/portable/service_mapping.h"

#include <gtest/gtest.h>

#include <functional>

namespace zl::win {
namespace {

spec::ServiceSpec web() {
  spec::ServiceSpec s;
  s.name = "web";
  s.resources.cpu = 0.5;
  s.resources.memory = 256LL * 1024 * 1024;
  s.hostname = "web-host";
  s.command.entrypoint = std::vector<std::string>{"cmd", "/c"};
  s.command.args = std::vector<std::string>{"echo hi"};
  s.command.workdir = "C:\\app";
  s.env["A"] = spec::EnvValue{"1", std::nullopt, false};
  return s;
}

TEST(HcsServiceMapping, FieldsWithAWindowsMeaning) {
  auto f = windows_service_fields(web());
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->cpus, 0.5);
  EXPECT_EQ(f->memory_bytes, 256LL * 1024 * 1024);
  EXPECT_EQ(f->hostname, "web-host");
  EXPECT_EQ(f->isolation, Isolation::process);
  EXPECT_EQ(f->argv, (std::vector<std::string>{"cmd", "/c", "echo hi"}));
  EXPECT_EQ(f->workdir, "C:\\app");
  EXPECT_EQ(f->env.at("A"), "1");
  auto vm = web();
  vm.isolation = spec::Isolation::vm;
  EXPECT_EQ(windows_service_fields(vm)->isolation, Isolation::hyperv);
  // Into the compute-system document: 0.5 CPU -> 1 processor, 256 MiB.
  ContainerDocInput in{f->cpus, f->memory_bytes, f->hostname, {{random_guid(), "L"}}, "S", std::nullopt, {}};
  auto doc = container_document(in);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->at("Container").at("Processor").at("Count"), 1);
  EXPECT_EQ(doc->at("Container").at("Memory").at("SizeInMB"), 256);
}

TEST(HcsServiceMapping, UnsupportedFieldsAreNamed) {
  struct Case {
    const char* field;
    std::function<void(spec::ServiceSpec&)> set;
  };
  std::vector<Case> cases = {
      {"capabilities", [](auto& s) { s.capabilities = {"CAP_NET_ADMIN"}; }},
      {"capabilities", [](auto& s) { s.cap_drop = {"ALL"}; }},
      {"privileged", [](auto& s) { s.privileged = true; }},
      {"read_only_root_fs", [](auto& s) { s.read_only_root_fs = true; }},
      {"sysctls", [](auto& s) { s.sysctls["net.ipv4.ip_forward"] = "1"; }},
      {"ulimits", [](auto& s) { s.ulimits["nofile"] = {}; }},
      {"devices", [](auto& s) { s.devices.push_back({}); }},
      {"pids_limit", [](auto& s) { s.resources.pids_limit = 10; }},
      {"storage", [](auto& s) { s.storage.push_back({}); }},
      {"user", [](auto& s) { s.user = "1000"; }},
  };
  for (const auto& c : cases) {
    auto s = web();
    c.set(s);
    auto f = windows_service_fields(s);
    ASSERT_FALSE(f) << c.field;
    EXPECT_EQ(f.error().kind, ErrorKind::unsupported) << c.field;
    EXPECT_NE(f.error().message.find(c.field), std::string::npos) << f.error().message;
  }
}

TEST(HcsServiceMapping, NeedsACommandAndResolvedEnv) {
  auto s = web();
  s.command = {};
  EXPECT_EQ(windows_service_fields(s).error().kind, ErrorKind::invalid_argument);
  s = web();
  s.env["B"] = spec::EnvValue{"", std::string("HOSTVAR"), false};
  EXPECT_EQ(windows_service_fields(s).error().kind, ErrorKind::invalid_argument);
}

}  // namespace
}  // namespace zl::win
