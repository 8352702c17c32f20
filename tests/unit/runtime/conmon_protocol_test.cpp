// conmon's command line and messages as zlayer speaks them: attach flags and the resize line.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/linux/conmon_protocol.h"

namespace zl {
namespace {

bool has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(ConmonProtocol, AttachSocketInTheBundleAndStdinOnlyWhenAsked) {
  OciCli cli("runc", "/usr/sbin/runc", "/run/zl");
  ContainerPaths paths{"/var/lib/zlayer/containers/abc"};
  auto plain = conmon_argv("/usr/bin/conmon", cli, "abc", paths, {});
  EXPECT_TRUE(has(plain, "--full-attach"));
  EXPECT_FALSE(has(plain, "--socket-dir-path"));
  EXPECT_FALSE(has(plain, "-i"));
  EXPECT_FALSE(has(plain, "-t"));
  auto interactive = conmon_argv("/usr/bin/conmon", cli, "abc", paths, {.tty = true, .open_stdin = true});
  EXPECT_TRUE(has(interactive, "-i"));
  EXPECT_TRUE(has(interactive, "-t"));
  EXPECT_EQ(paths.attach_socket(), "/var/lib/zlayer/containers/abc/bundle/attach");
  EXPECT_EQ(paths.ctl_fifo(), "/var/lib/zlayer/containers/abc/bundle/ctl");
}

TEST(ConmonProtocol, ResizeIsOneCtlLine) {
  EXPECT_EQ(resize_message(24, 80), "1 24 80\n");
  EXPECT_EQ(resize_message(40, 120), "1 40 120\n");
}

}  // namespace
}  // namespace zl
