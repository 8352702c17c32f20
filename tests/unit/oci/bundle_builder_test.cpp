// build_runtime_config end to end: what a default container, a privileged one, and one using
// every option get in config.json, and that user errors surface with their names.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <functional>
#include <set>

#include "oci/bundle_builder.h"
#include "oci/capabilities.h"
#include "oci/process.h"
#include "unit/oci/oci_test_util.h"

namespace zl {
namespace {

using json = nlohmann::json;
using test::contains;
using test::mount_at;

class BundleBuilderTest : public ::testing::Test {
 protected:
  test::TestRootfs root_;
  BundleInputs in_ = test::basic_inputs(root_.path());

  json build() {
    auto c = build_runtime_config(in_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : json();
  }
  Error build_error() {
    auto c = build_runtime_config(in_);
    EXPECT_FALSE(c) << c->dump(2);
    return c ? Error{} : c.error();
  }
};

TEST_F(BundleBuilderTest, DefaultContainer) {
  json c = build();
  EXPECT_EQ(c["ociVersion"], "1.1.0");
  EXPECT_EQ(c["root"], json({{"path", root_.path().string()}, {"readonly", false}}));
  EXPECT_EQ(c["hostname"], "0123456789ab");
  const json& p = c["process"];
  EXPECT_EQ(p["args"], json({"/bin/sh"}));
  EXPECT_EQ(p["cwd"], "/");
  EXPECT_EQ(p["terminal"], false);
  EXPECT_EQ(p["user"], json::parse(R"({"uid": 0, "gid": 0, "additionalGids": [0]})"));
  EXPECT_EQ(p["env"], json({"PATH=/usr/bin:/bin", "HOSTNAME=0123456789ab", "HOME=/root"}));
  auto bounding = p["capabilities"]["bounding"].get<std::set<std::string>>();
  EXPECT_EQ(bounding, std::set<std::string>(default_capabilities().begin(), default_capabilities().end()));
  EXPECT_EQ(p["capabilities"]["bounding"].size(), 14u);
  EXPECT_EQ(p["capabilities"]["permitted"], p["capabilities"]["bounding"]);
  EXPECT_FALSE(p["capabilities"].contains("inheritable"));
  EXPECT_GE(p["oomScoreAdj"], 0);
  struct rlimit nofile {};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  EXPECT_EQ(p["rlimits"][0]["hard"], std::min<uint64_t>(1048576, nofile.rlim_max));
  EXPECT_EQ(p["noNewPrivileges"], false);

  const json& l = c["linux"];
  EXPECT_EQ(l["cgroupsPath"], "/zlayer/0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(contains(l["namespaces"], json({{"type", "network"}})));
  EXPECT_TRUE(contains(l["namespaces"], json({{"type", "pid"}})));
  EXPECT_TRUE(contains(l["maskedPaths"], "/proc/kcore"));
  EXPECT_TRUE(contains(l["readonlyPaths"], "/proc/sys"));
  EXPECT_EQ(l["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(l["resources"]["devices"][0], json::parse(R"({"allow": false, "access": "rwm"})"));
  EXPECT_TRUE(l["devices"].empty());
  EXPECT_EQ(c["annotations"]["org.opencontainers.image.stopSignal"], "SIGTERM");
  EXPECT_FALSE(mount_at(c, "/proc").is_null());
}

TEST_F(BundleBuilderTest, ImageUserWorkdirEnvAndLabels) {
  in_.image_config = test::image_config({{"Entrypoint", {"/app/run"}},
                                         {"Cmd", {"--serve"}},
                                         {"User", "app"},
                                         {"WorkingDir", "/app"},
                                         {"StopSignal", "SIGQUIT"},
                                         {"Labels", {{"org.example.team", "web"}, {"tier", "image"}}}});
  in_.spec.labels = {{"tier", "spec"}};
  in_.spec.tty = true;
  in_.spec.hostname = "web-1";
  json c = build();
  const json& p = c["process"];
  EXPECT_EQ(p["args"], json({"/app/run", "--serve"}));
  EXPECT_EQ(p["cwd"], "/app");
  EXPECT_EQ(p["terminal"], true);
  EXPECT_EQ(p["user"], json::parse(R"({"uid": 1000, "gid": 1000, "additionalGids": [1000, 1, 29]})"));
  EXPECT_EQ(p["env"],
            json({std::string("PATH=") + kDefaultPath, "HOSTNAME=web-1", "TERM=xterm", "HOME=/home/app"}));
  EXPECT_EQ(c["hostname"], "web-1");
  EXPECT_EQ(c["annotations"]["org.example.team"], "web");
  EXPECT_EQ(c["annotations"]["tier"], "spec");
  EXPECT_EQ(c["annotations"]["org.opencontainers.image.stopSignal"], "SIGQUIT");

  in_.spec.user = "daemon:staff";  // the spec's user beats the image's
  json d = build();
  EXPECT_EQ(d["process"]["user"], json::parse(R"({"uid": 1, "gid": 50, "additionalGids": [50]})"));
}

TEST_F(BundleBuilderTest, Privileged) {
  in_.spec.privileged = true;
  in_.spec.cap_drop = {"CHOWN"};  // ignored when privileged, as with docker
  json c = build();
  HostInfo host = HostInfo::probe();
  EXPECT_EQ(c["process"]["capabilities"]["bounding"].size(), host.capabilities.size());
  EXPECT_FALSE(c["linux"].contains("seccomp"));
  EXPECT_FALSE(c["linux"].contains("maskedPaths"));
  EXPECT_FALSE(c["linux"].contains("readonlyPaths"));
  EXPECT_EQ(c["linux"]["resources"]["devices"], json::parse(R"([{"allow": true, "access": "rwm"}])"));
  EXPECT_FALSE(c["linux"]["devices"].empty());
  EXPECT_FALSE(contains(mount_at(c, "/sys")["options"], "ro"));
}

TEST_F(BundleBuilderTest, SecurityOptions) {
  in_.spec.cap_add = {"SYS_ADMIN"};
  in_.spec.cap_drop = {"NET_RAW"};
  in_.spec.no_new_privileges = true;
  in_.spec.read_only_rootfs = true;
  json c = build();
  const json& caps = c["process"]["capabilities"]["effective"];
  EXPECT_TRUE(contains(caps, "CAP_SYS_ADMIN"));
  EXPECT_FALSE(contains(caps, "CAP_NET_RAW"));
  EXPECT_EQ(c["process"]["noNewPrivileges"], true);
  EXPECT_EQ(c["root"]["readonly"], true);
  bool mount_allowed = false;  // seccomp follows the caps
  for (const auto& r : c["linux"]["seccomp"]["syscalls"])
    mount_allowed |= contains(r["names"], "mount") && r["action"] == "SCMP_ACT_ALLOW";
  EXPECT_TRUE(mount_allowed);

  in_.spec.seccomp_profile = "unconfined";
  EXPECT_FALSE(build()["linux"].contains("seccomp"));
}

TEST_F(BundleBuilderTest, Networks) {
  in_.network = {.mode = NetworkNamespace::Mode::join, .path = "/run/netns/web"};
  json joined = build();
  EXPECT_TRUE(
      contains(joined["linux"]["namespaces"], json({{"type", "network"}, {"path", "/run/netns/web"}})));

  in_.network = {.mode = NetworkNamespace::Mode::host};
  json host = build();
  for (const auto& ns : host["linux"]["namespaces"]) EXPECT_NE(ns["type"], "network");
  EXPECT_EQ(host["hostname"], HostInfo::probe().hostname);
  in_.spec.sysctls = {{"net.ipv4.ip_forward", "1"}};
  EXPECT_NE(build_error().message.find("net.ipv4.ip_forward"), std::string::npos);
}

TEST_F(BundleBuilderTest, MountsDefaultToTheSpecsAndInputsReplaceThem) {
  fs::path data = root_.base() / "vol";
  fs::create_directories(data);
  in_.spec.mounts = {{.type = Mount::Type::tmpfs, .target = "/spec-tmp"}};
  EXPECT_FALSE(mount_at(build(), "/spec-tmp").is_null());
  in_.mounts = std::vector<Mount>{{.type = Mount::Type::volume, .source = data.string(), .target = "/data"}};
  json c = build();
  EXPECT_TRUE(mount_at(c, "/spec-tmp").is_null());
  EXPECT_EQ(mount_at(c, "/data")["source"], data.string());
}

TEST_F(BundleBuilderTest, HostFilesAndHostname) {
  for (const char* f : {"hosts", "hostname", "resolv.conf"})
    ASSERT_TRUE(write_file_atomic(root_.base() / f, "x"));
  in_.hosts_file = root_.base() / "hosts";
  in_.hostname_file = root_.base() / "hostname";
  in_.resolv_conf = root_.base() / "resolv.conf";
  in_.hostname = "given";
  json c = build();
  EXPECT_EQ(c["hostname"], "given");
  EXPECT_EQ(mount_at(c, "/etc/hostname")["source"], (root_.base() / "hostname").string());
  EXPECT_EQ(mount_at(c, "/etc/resolv.conf")["options"], json({"rbind", "rprivate"}));
}

TEST_F(BundleBuilderTest, UserErrorsNameWhatIsWrong) {
  struct Case {
    std::function<void(BundleInputs&)> change;
    std::string says;
  };
  std::vector<Case> cases = {
      {[](BundleInputs& in) { in.spec.cap_add = {"CAP_FLY"}; }, "CAP_FLY"},
      {[](BundleInputs& in) { in.spec.user = "ghost"; },
       "user \"ghost\" not found in the image's /etc/passwd"},
      {[](BundleInputs& in) { in.spec.stop_signal = "SIGFOO"; }, "SIGFOO"},
      {[](BundleInputs& in) {
         in.spec.sysctls = {{"vm.swappiness", "1"}};
       },
       "vm.swappiness"},
      {[](BundleInputs& in) {
         in.spec.ulimits = {{"nofile", 1, UINT64_MAX - 1}};
       },
       "nofile"},
      {[](BundleInputs& in) { in.spec.hostname = "bad name!"; }, "bad name!"},
      {[](BundleInputs& in) { in.spec.devices = {{.host_path = "/dev/nope"}}; }, "/dev/nope"},
      {[](BundleInputs& in) { in.spec.resources.memory = 10; }, "memory"},
      {[](BundleInputs& in) { in.image_config = test::image_config(json::object()); },
       "no command specified"},
      {[](BundleInputs& in) { in.spec.env = {"=x"}; }, "=x"},
      {[](BundleInputs& in) { in.rootfs = "relative/rootfs"; }, "relative/rootfs"},
      {[](BundleInputs& in) { in.container_id.clear(); }, "container id"},
  };
  for (const auto& c : cases) {
    in_ = test::basic_inputs(root_.path());
    c.change(in_);
    Error e = build_error();
    EXPECT_NE(e.message.find(c.says), std::string::npos) << e.message;
  }
}

TEST_F(BundleBuilderTest, WritesConfigJson) {
  json c = build();
  ASSERT_TRUE(write_runtime_config(root_.base(), c));
  auto text = read_file(root_.base() / "config.json");
  ASSERT_TRUE(text);
  EXPECT_EQ(json::parse(*text), c);
}

}  // namespace
}  // namespace zl
