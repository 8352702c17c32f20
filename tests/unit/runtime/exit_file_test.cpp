#include <gtest/gtest.h>

#include "runtime/linux/exit_file.h"

namespace zl {
namespace {

using Reason = ExitInfo::Reason;

TEST(ExitFile, PlainExitCodes) {
  auto zero = parse_exit_file("0", false, 42);
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->exit_code, 0);
  EXPECT_EQ(zero->reason, Reason::exited);
  EXPECT_EQ(zero->finished_at_unix_nano, 42);
  auto seven = parse_exit_file("7\n", false, 0);
  ASSERT_TRUE(seven);
  EXPECT_EQ(seven->exit_code, 7);
  EXPECT_EQ(seven->reason, Reason::exited);
  EXPECT_EQ(parse_exit_file("128", false, 0)->reason, Reason::exited);
}

TEST(ExitFile, SignalsReadAs128PlusN) {
  auto killed = parse_exit_file("137", false, 0);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->exit_code, 137);
  EXPECT_EQ(killed->reason, Reason::signal);
  EXPECT_EQ(killed->signal, 9);
  EXPECT_EQ(parse_exit_file("143", false, 0)->signal, 15);
  EXPECT_EQ(parse_exit_file("255", false, 0)->reason, Reason::exited);  // 127 is no signal
}

TEST(ExitFile, OomMarkerWins) {
  auto oom = parse_exit_file("137", true, 0);
  ASSERT_TRUE(oom);
  EXPECT_EQ(oom->reason, Reason::oom_killed);
  EXPECT_EQ(oom->exit_code, 137);
  EXPECT_EQ(oom->signal, 9);
}

TEST(ExitFile, MinusOneIsARuntimeError) {
  auto e = parse_exit_file("-1", false, 0);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->reason, Reason::runtime_error);
  EXPECT_EQ(e->exit_code, -1);
  EXPECT_FALSE(e->message.empty());
}

TEST(ExitFile, GarbageIsRejected) {
  for (auto bad : {"", "abc", "7x", "-5", "1000"}) {
    auto r = parse_exit_file(bad, false, 0);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    }
  }
}

}  // namespace
}  // namespace zl
