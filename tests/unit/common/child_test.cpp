#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "common/subprocess.h"

namespace zl {
namespace {

Result<std::string> drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(Child, PassesStdioAndExtraFdsAtFixedNumbers) {
  int out[2], extra[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(extra, O_CLOEXEC), 0);
  UniqueFd out_r(out[0]), out_w(out[1]), extra_r(extra[0]), extra_w(extra[1]);
  SpawnOptions o;
  o.stdout_fd = out_w.get();
  o.extra_fds = {{extra_w.get(), 3}};
  auto c = Child::spawn({"sh", "-c", "echo out; echo three >&3; ls /proc/self/fd | wc -l"}, o);
  ASSERT_TRUE(c) << c.error().message;
  out_w.reset();
  extra_w.reset();
  auto e = c->wait();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), 0);
  EXPECT_EQ(*drain(extra_r.get()), "three\n");
  // 0, 1, 2, 3 and the fd ls opens for /proc/self/fd: nothing else leaked into the child.
  EXPECT_EQ(*drain(out_r.get()), "out\n5\n");
}

TEST(Child, WaitForTimesOutThenKillOnDestruction) {
  pid_t pid = -1;
  {
    auto c = Child::spawn({"sleep", "30"});
    ASSERT_TRUE(c);
    pid = c->pid();
    EXPECT_GE(c->exit_fd(), 0);
    auto e = c->wait_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(e);
    EXPECT_FALSE(*e);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // killed and reaped
}

TEST(Child, ReportsSignalsAndExecFailures) {
  auto c = Child::spawn({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(c);
  auto e = c->wait();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->signal, SIGTERM);
  EXPECT_EQ(e->code(), 128 + SIGTERM);
  auto missing = Child::spawn({"/nonexistent/program"});
  EXPECT_FALSE(missing);
  SpawnOptions bad_cwd;
  bad_cwd.cwd = "/nonexistent-dir";
  auto r = Child::spawn({"true"}, bad_cwd);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace zl
