#include <gtest/gtest.h>

#include "common/fs.h"
#include "runtime/container_json.h"
#include "runtime/container_store.h"

namespace zl {
namespace {

ContainerHealth sample() {
  return ContainerHealth{.status = "unhealthy",
                         .failing_streak = 3,
                         .log = {{.start_unix_nano = 1'700'000'000'000'000'000,
                                  .end_unix_nano = 1'700'000'000'500'000'000,
                                  .exit_code = 1,
                                  .output = "tcp port 9999: Connection refused"}}};
}

TEST(ContainerHealth, RoundTripsThroughItsJson) {
  auto back = container_health_from_json(to_json(sample()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, sample());
}

TEST(ContainerHealth, RejectsAnUnknownStatusOrAMissingField) {
  auto j = to_json(sample());
  j["status"] = "fine";
  EXPECT_FALSE(container_health_from_json(j));
  j = to_json(sample());
  j.erase("failing_streak");
  EXPECT_FALSE(container_health_from_json(j));
}

TEST(ContainerHealth, DockerShape) {
  auto d = docker_health_json(sample());
  EXPECT_EQ(d["Status"], "unhealthy");
  EXPECT_EQ(d["FailingStreak"], 3);
  ASSERT_EQ(d["Log"].size(), 1u);
  EXPECT_EQ(d["Log"][0]["Start"], "2023-11-14T22:13:20.000000000Z");
  EXPECT_EQ(d["Log"][0]["End"], "2023-11-14T22:13:20.500000000Z");
  EXPECT_EQ(d["Log"][0]["ExitCode"], 1);
  EXPECT_EQ(d["Log"][0]["Output"], "tcp port 9999: Connection refused");
}

TEST(ContainerHealth, StoreKeepsItBesideTheContainerAndIgnoresAGarbledFile) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-health-test-");
  ASSERT_TRUE(dir);
  ContainerStore store(dir->path());
  std::string id(64, 'a');
  ASSERT_TRUE(make_dirs(dir->path() / id));
  EXPECT_FALSE(store.load_health(id));
  ASSERT_TRUE(store.save_health(id, sample()));
  EXPECT_EQ(store.load_health(id), sample());
  ASSERT_TRUE(write_file_atomic(dir->path() / id / "health.json", ""));  // as a crash may leave it
  EXPECT_FALSE(store.load_health(id));
}

}  // namespace
}  // namespace zl
