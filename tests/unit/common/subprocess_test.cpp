#include <gtest/gtest.h>

#include "common/subprocess.h"

namespace zl {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->describe(), "exit code 7: err");
}

TEST(Subprocess, FeedsStdinAndReportsSignals) {
  SubprocessOptions o;
  o.stdin_data = std::string(200000, 'x');
  auto r = run_process({"wc", "-c"}, o);
  ASSERT_TRUE(r);
  EXPECT_EQ(std::stoi(r->out), 200000);
  auto k = run_process({"sh", "-c", "kill -9 $$"});
  ASSERT_TRUE(k);
  EXPECT_EQ(k->signal, 9);
}

TEST(Subprocess, TimeoutKills) {
  SubprocessOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto r = run_process({"sleep", "10"}, o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, 9);
}

TEST(Subprocess, MissingProgramIsNotFound) {
  auto r = run_process({"zlayer-no-such-program"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace zl
