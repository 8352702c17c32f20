// docker ps's STATUS column, shared by `zlayer ps` and the Docker API.
#include <gtest/gtest.h>

#include "runtime/container.h"

namespace zl {
namespace {

constexpr int64_t kSec = 1'000'000'000;

TEST(StatusText, ReadsAsDockerPsDoes) {
  int64_t now = 10'000 * kSec;
  ContainerInfo c;
  c.status = ContainerStatus::created;
  EXPECT_EQ(status_text(c, now), "Created");
  c.status = ContainerStatus::running;
  c.started_at = now - 300 * kSec;
  EXPECT_EQ(status_text(c, now), "Up 5 minutes");
  c.health = ContainerHealth{.status = "starting"};
  EXPECT_EQ(status_text(c, now), "Up 5 minutes (health: starting)");
  c.health->status = "healthy";
  EXPECT_EQ(status_text(c, now), "Up 5 minutes (healthy)");
  c.health->status = "unhealthy";
  EXPECT_EQ(status_text(c, now), "Up 5 minutes (unhealthy)");
  c.status = ContainerStatus::paused;
  EXPECT_EQ(status_text(c, now), "Up 5 minutes (Paused)");
  c.status = ContainerStatus::exited;
  c.exit = ExitInfo{.exit_code = 3};
  c.finished_at = now - 1 * kSec;
  EXPECT_EQ(status_text(c, now), "Exited (3) 1 second ago");
}

TEST(StatusText, DurationsInDockersWords) {
  EXPECT_EQ(human_duration(0), "Less than a second");
  EXPECT_EQ(human_duration(59), "59 seconds");
  EXPECT_EQ(human_duration(60), "1 minute");
  EXPECT_EQ(human_duration(7200), "2 hours");
  EXPECT_EQ(human_duration(47 * 3600), "47 hours");
  EXPECT_EQ(human_duration(3 * 86400), "3 days");
}

}  // namespace
}  // namespace zl
