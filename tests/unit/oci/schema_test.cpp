// Generated config.json files validate against the OCI runtime-spec 1.1.0 JSON schemas
// (/work/shared/oci/runtime-spec-1.1.0/schema, checked with python3-jsonschema).
#include <gtest/gtest.h>

#include <functional>

#include "oci/bundle_builder.h"
#include "unit/oci/oci_test_util.h"

namespace zl {
namespace {

using json = nlohmann::json;

struct SchemaCase {
  std::string name;
  std::function<void(BundleInputs&, const fs::path& scratch)> setup;
};

void PrintTo(const SchemaCase& c, std::ostream* os) {
  *os << c.name;
}

class SchemaTest : public ::testing::TestWithParam<SchemaCase> {};

TEST_P(SchemaTest, GeneratedConfigIsValid) {
  test::TestRootfs root;
  BundleInputs in = test::basic_inputs(root.path());
  GetParam().setup(in, root.base());
  auto config = build_runtime_config(in);
  ASSERT_TRUE(config) << config.error().message;
  auto r = test::validate_against_schema(*config);
  EXPECT_TRUE(r.ok()) << r.describe() << "\n" << r.out << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Specs, SchemaTest,
    ::testing::Values(
        SchemaCase{"Default", [](BundleInputs&, const fs::path&) {}},
        SchemaCase{"Privileged", [](BundleInputs& in, const fs::path&) { in.spec.privileged = true; }},
        SchemaCase{"AllResources",
                   [](BundleInputs& in, const fs::path&) {
                     in.spec.resources = {.cpus = 0.5,
                                          .cpu_shares = 512,
                                          .cpuset_cpus = "0",
                                          .memory = 64 << 20,
                                          .memory_swap = 128 << 20,
                                          .pids_limit = 64};
                     in.spec.ulimits = {{"nofile", 512, 1024}, {"core", 0, 0}};
                   }},
        SchemaCase{
            "Mounts",
            [](BundleInputs& in, const fs::path& scratch) {
              fs::create_directories(scratch / "data");
              for (const char* f : {"hosts", "hostname", "resolv.conf"})
                ASSERT_TRUE(write_file_atomic(scratch / f, "x"));
              in.hosts_file = scratch / "hosts";
              in.hostname_file = scratch / "hostname";
              in.resolv_conf = scratch / "resolv.conf";
              in.spec.read_only_rootfs = true;
              in.mounts = std::vector<Mount>{
                  {.type = Mount::Type::bind,
                   .source = (scratch / "data").string(),
                   .target = "/data",
                   .read_only = true},
                  {.type = Mount::Type::volume, .source = (scratch / "data").string(), .target = "/vol"},
                  {.type = Mount::Type::tmpfs, .target = "/tmp", .options = {"size=64m", "exec"}}};
            }},
        SchemaCase{"Devices",
                   [](BundleInputs& in, const fs::path&) {
                     in.spec.devices = {{.host_path = "/dev/null", .container_path = "/dev/other-null"},
                                        {.host_path = "/dev/zero", .permissions = "r"}};
                   }},
        SchemaCase{"Sysctls",
                   [](BundleInputs& in, const fs::path&) {
                     in.spec.sysctls = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "65536"}};
                   }},
        SchemaCase{"EverythingElse",
                   [](BundleInputs& in, const fs::path&) {
                     in.spec.tty = true;
                     in.spec.user = "app";
                     in.spec.cap_add = {"ALL"};
                     in.spec.cap_drop = {"SYS_ADMIN"};
                     in.spec.no_new_privileges = true;
                     in.spec.labels = {{"a", "b"}};
                     in.network = {.mode = NetworkNamespace::Mode::join, .path = "/run/netns/x"};
                   }}),
    [](const auto& info) { return info.param.name; });

// The validator must fail on invalid configs, or the test above proves nothing.
TEST(SchemaValidator, RejectsInvalidConfigs) {
  test::TestRootfs root;
  auto config = build_runtime_config(test::basic_inputs(root.path()));
  ASSERT_TRUE(config) << config.error().message;

  json no_version = *config;
  no_version.erase("ociVersion");
  json bad_rlimit = *config;
  bad_rlimit["process"]["rlimits"][0]["type"] = "nofile";  // must be RLIMIT_*
  json bad_cwd = *config;
  bad_cwd["process"]["cwd"] = 42;
  json bad_arch = *config;
  bad_arch["linux"]["seccomp"]["architectures"] = {"SCMP_ARCH_VAX"};  // defined in defs-linux.json
  for (const json& bad : {no_version, bad_rlimit, bad_cwd, bad_arch}) {
    auto r = test::validate_against_schema(bad);
    EXPECT_FALSE(r.ok()) << r.out;
    EXPECT_EQ(r.exit_code, 1) << r.describe() << r.err;
    EXPECT_FALSE(r.out.empty());
  }
}

}  // namespace
}  // namespace zl
