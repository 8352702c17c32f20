#include "agent/restart_backoff.h"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using zl::RestartBackoff;

TEST(RestartBackoff, DoublesFromTheBaseUpToSixtySeconds) {
  RestartBackoff b(1000ms);
  EXPECT_EQ(b.on_failure(100ms), 1000ms);
  EXPECT_EQ(b.on_failure(100ms), 2000ms);
  EXPECT_EQ(b.on_failure(100ms), 4000ms);
  for (int i = 0; i < 10; ++i) b.on_failure(100ms);
  EXPECT_EQ(b.delay(), 60000ms);
  EXPECT_EQ(b.attempts(), 13);
}

TEST(RestartBackoff, ALongRunResetsTheDelayButNotTheAttempts) {
  RestartBackoff b(500ms);
  b.on_failure(1ms);
  b.on_failure(1ms);
  b.on_failure(1ms);
  EXPECT_TRUE(b.crash_loop());
  EXPECT_EQ(b.on_failure(30s), 500ms);
  EXPECT_FALSE(b.crash_loop());
  EXPECT_EQ(b.attempts(), 4);
}

TEST(RestartBackoff, CrashLoopAfterThreeFastFailures) {
  RestartBackoff b;
  b.on_failure(1s);
  b.on_failure(1s);
  EXPECT_FALSE(b.crash_loop());
  b.on_failure(1s);
  EXPECT_TRUE(b.crash_loop());
}
