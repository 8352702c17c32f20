#include <gtest/gtest.h>

#include "runtime/linux/conmon_protocol.h"
#include "runtime/linux/runtime_message.h"

namespace zl {
namespace {

TEST(RuntimeMessage, LogrusText) {
  EXPECT_EQ(
      clean_runtime_message("time=\"2026-11-22T23:51:57Z\" level=error msg=\"container does not exist\"\n"),
      "container does not exist");
  EXPECT_EQ(
      clean_runtime_message("time=\"x\" level=warning msg=\"deprecated\"\n"
                            "time=\"x\" level=error msg=\"exec failed: exec: \\\"nope\\\": not found\"\n"),
      "exec failed: exec: \"nope\": not found");
}

TEST(RuntimeMessage, JsonLogAndPlainLinesDeduplicated) {
  EXPECT_EQ(clean_runtime_message("{\"level\":\"error\",\"msg\":\"cgroups in hybrid mode not supported\"}\n"
                                  "cgroups in hybrid mode not supported\n"),
            "cgroups in hybrid mode not supported");
  EXPECT_EQ(clean_runtime_message("{\"level\":\"debug\",\"msg\":\"noise\"}\nfirst\n\nsecond\n"),
            "first; second");
  EXPECT_EQ(clean_runtime_message(""), "");
}

TEST(RuntimeMessage, Kinds) {
  EXPECT_EQ(runtime_error_kind("container does not exist"), ErrorKind::not_found);
  EXPECT_EQ(runtime_error_kind("error opening file `/run/crun/x/status`: No such file or directory"),
            ErrorKind::not_found);
  EXPECT_EQ(runtime_error_kind("cannot exec in a stopped container"), ErrorKind::conflict);
  EXPECT_EQ(runtime_error_kind("container not running"), ErrorKind::conflict);
  EXPECT_EQ(runtime_error_kind("something odd"), ErrorKind::internal);
}

TEST(RuntimeMessage, ExecStartFailuresLikeDocker) {
  EXPECT_EQ(exec_start_failure_code("exec failed: unable to start container process: exec: \"nope\": "
                                    "executable file not found in $PATH"),
            127);
  EXPECT_EQ(exec_start_failure_code("exec: \"/bin/nope\": stat /bin/nope: no such file or directory"), 127);
  EXPECT_EQ(exec_start_failure_code("exec: \"/etc/passwd\": permission denied"), 126);
  EXPECT_EQ(exec_start_failure_code("cannot exec in a stopped container"), std::nullopt);
}

TEST(ConmonProtocol, SyncMessages) {
  auto ok = parse_sync_message("{\"data\": 27872}");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->data, 27872);
  EXPECT_TRUE(ok->message.empty());
  auto bad = parse_sync_message("{\"data\": -1, \"message\": \"runc create failed\"}");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->data, -1);
  EXPECT_EQ(bad->message, "runc create failed");
  EXPECT_FALSE(parse_sync_message(""));
  EXPECT_FALSE(parse_sync_message("{\"pid\": 1}"));
}

TEST(ConmonProtocol, Argv) {
  ContainerPaths paths{"/var/lib/zlayer/containers/abc"};
  OciCli cli("runc", "/usr/sbin/runc", "/run/zlayer/oci");
  CreateOptions opts;
  opts.log_size_max = 4096;
  auto argv = conmon_argv("/usr/bin/conmon", cli, "abc", paths, opts);
  auto has = [&](const std::string& a, const std::string& b) {
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == a && argv[i + 1] == b) return true;
    return false;
  };
  EXPECT_EQ(argv[0], "/usr/bin/conmon");
  EXPECT_TRUE(has("--api-version", "1"));
  EXPECT_TRUE(has("-r", "/usr/sbin/runc"));
  EXPECT_TRUE(has("-n", "abc"));
  EXPECT_TRUE(has("-l", "k8s-file:/var/lib/zlayer/containers/abc/ctr.log"));
  EXPECT_TRUE(has("--exit-dir", "/var/lib/zlayer/containers/abc/exits"));
  EXPECT_TRUE(has("--log-size-max", "4096"));
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--runtime-arg=--root=/run/zlayer/oci"), argv.end());
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-t"), argv.end());
}

}  // namespace
}  // namespace zl
