#include <gtest/gtest.h>

#include <fstream>

#include "runtime/event_log.h"

namespace zl {
namespace {

std::vector<std::string> actions(const EventLog& log, EventQuery q) {
  std::vector<std::string> out;
  auto st = log.read(q, [&](const Event& e) -> Status {
    out.push_back(e.action);
    return {};
  });
  EXPECT_TRUE(st) << st.error().message;
  return out;
}

TEST(EventLog, ReadsBackBetweenSinceAndUntilSkippingTornLines) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-events-");
  ASSERT_TRUE(dir);
  EventLog log(dir->path() / "events.jsonl");
  log.record(Event{.type = "container", .action = "create", .id = "a", .time_unix_nano = 100});
  log.record(Event{.type = "container", .action = "start", .id = "a", .time_unix_nano = 200});
  std::ofstream(dir->path() / "events.jsonl", std::ios::app) << "{\"type\":\"contai\n";  // a crashed writer
  log.record(Event{.type = "container", .action = "die", .id = "a", .attributes = {{"exitCode", "3"}},
                   .time_unix_nano = 300});
  EXPECT_EQ(actions(log, {}), (std::vector<std::string>{"create", "start", "die"}));
  EXPECT_EQ(actions(log, {.since_unix_nano = 200}), (std::vector<std::string>{"start", "die"}));
  EXPECT_EQ(actions(log, {.since_unix_nano = 150, .until_unix_nano = 300}), (std::vector<std::string>{"start"}));
  std::string code;
  ASSERT_TRUE(log.read({.since_unix_nano = 300}, [&](const Event& e) -> Status {
    code = e.attributes.at("exitCode");
    return {};
  }));
  EXPECT_EQ(code, "3");
}

TEST(EventLog, FollowingSeesWhatIsRecordedLater) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-events-");
  ASSERT_TRUE(dir);
  EventLog log(dir->path() / "events.jsonl");
  log.record(Event{.type = "image", .action = "pull", .id = "old"});
  std::vector<std::string> seen;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    log.record(Event{.type = "image", .action = "tag", .id = "new"});
  });
  auto st = log.read({.follow = true}, [&](const Event& e) -> Status {
    seen.push_back(e.id);
    return unavailable("enough");  // ends the read at the first event
  });
  writer.join();
  EXPECT_FALSE(st);
  EXPECT_EQ(seen, std::vector<std::string>{"new"});  // following from now: not the old one
}

}  // namespace
}  // namespace zl
