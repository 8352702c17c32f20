// Cron schedules: the reference's 7-field syntax (and 6), refusals naming the field, and the next
// firing time in UTC across minutes, days, months, leap years and the year field.
#include <gtest/gtest.h>

#include "spec/cron.h"

namespace zl::spec {
namespace {

using namespace std::chrono;

sys_seconds at(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

std::optional<sys_seconds> next(std::string_view expr, system_clock::time_point after) {
  auto c = CronSchedule::parse(expr);
  EXPECT_TRUE(c) << expr << ": " << c.error().message;
  return c ? c->next_after(after) : std::nullopt;
}

TEST(Cron, AcceptsTheReferenceExamples) {
  for (const char* e :
       {"0 0 0 * * * *", "0 */5 * * * * *", "0 0 12 * * MON-FRI *", "0 30 2 1 * * *", "*/10 * * * * * *",
        "0 0 0 ? * 2,4 *", "0 0 0 1,15 JAN-MAR ? 2025-2030", "0 0 0 * * Mon-Thurs/2 *",
        "0 0 0 * February-November/2 * *", "0 0 * * * *", "@daily", "  0 0 0 * * * *  "}) {
    auto c = CronSchedule::parse(e);
    EXPECT_TRUE(c) << e << ": " << c.error().message;
  }
  EXPECT_EQ(CronSchedule::parse("  0 0 0 * * * *  ")->expression(), "0 0 0 * * * *");
  EXPECT_EQ(*CronSchedule::parse("0 0 0 * * * *"), *CronSchedule::parse("@daily"));
  EXPECT_EQ(*CronSchedule::parse("0 0 0 * * * *"), *CronSchedule::parse("0 0 0 * * *"));
}

TEST(Cron, RefusesNamingTheField) {
  struct Case {
    const char* expr;
    const char* why;
  };
  for (const auto& c : {
           Case{"", "expected 7 fields (second minute hour day-of-month month day-of-week year), got 0"},
           Case{"not a cron",
                "expected 7 fields (second minute hour day-of-month month day-of-week year), got 3"},
           Case{"0 0 * * *", "got 5"},
           Case{"0 0 0 * * * * *", "got 8"},
           Case{"60 0 0 * * * *", "second field \"60\": 60 is outside 0-59"},
           Case{"0 0 24 * * * *", "hour field \"24\": 24 is outside 0-23"},
           Case{"0 0 0 0 * * *", "day-of-month field \"0\": 0 is outside 1-31"},
           Case{"0 0 0 * 13 * *", "month field \"13\": 13 is outside 1-12"},
           Case{"0 0 0 * * 0 *", "day-of-week field \"0\": 0 is outside 1-7 (1 = SUN ... 7 = SAT)"},
           Case{"0 0 0 * * MON-FOO *",
                "day-of-week field \"MON-FOO\": \"FOO\" is not a day-of-week name (SUN-SAT)"},
           Case{"0 0 0 * JANUAR * *", "month field \"JANUAR\": \"JANUAR\" is not a month name (JAN-DEC)"},
           Case{"0 0 0 * * * 2101", "year field \"2101\": 2101 is outside 1970-2100"},
           Case{"*/0 * * * * * *", "second field \"*/0\": a step must be at least 1"},
           Case{"*/x * * * * * *", "second field \"*/x\": the step \"x\" is not a number"},
           Case{"0 5-3 * * * * *", "minute field \"5-3\": the range \"5-3\" goes backwards"},
           Case{"? * * * * * *",
                "second field \"?\": \"?\" is only allowed in the day-of-month and day-of-week"},
           Case{"1,,2 * * * * * *", "second field \"1,,2\": an empty item in the list"},
           Case{"0 1x * * * * *", "minute field \"1x\": \"1x\" is not a number"},
           Case{"0 MON * * * * *", "minute field \"MON\": \"MON\" is not a number"},
           Case{"@every", "unknown shorthand (use @yearly, @monthly, @weekly, @daily or @hourly)"},
       }) {
    auto r = CronSchedule::parse(c.expr);
    ASSERT_FALSE(r) << c.expr;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(fmt::format("invalid cron schedule \"{}\"", c.expr)), std::string::npos)
        << r.error().message;
  }
}

TEST(Cron, NextFireTimes) {
  // Daily at midnight; strictly after: at midnight itself the next one is a day later.
  EXPECT_EQ(next("0 0 0 * * * *", at(2024, 3, 10, 12)), at(2024, 3, 11));
  EXPECT_EQ(next("0 0 0 * * * *", at(2024, 3, 11)), at(2024, 3, 12));
  // Every 5 minutes.
  EXPECT_EQ(next("0 */5 * * * * *", at(2024, 3, 10, 12, 3, 10)), at(2024, 3, 10, 12, 5));
  EXPECT_EQ(next("0 */5 * * * * *", at(2024, 3, 10, 12, 5)), at(2024, 3, 10, 12, 10));
  EXPECT_EQ(next("0 */5 * * * * *", at(2024, 3, 10, 23, 58)), at(2024, 3, 11, 0, 0));
  // Weekdays at noon: Friday afternoon -> Monday noon.
  EXPECT_EQ(next("0 0 12 * * MON-FRI *", at(2024, 3, 8, 13)), at(2024, 3, 11, 12));
  EXPECT_EQ(next("0 0 12 * * MON-FRI *", at(2024, 3, 11, 11, 59, 59)), at(2024, 3, 11, 12));
  // Monthly on the 1st at 02:30.
  EXPECT_EQ(next("0 30 2 1 * * *", at(2024, 1, 31, 5)), at(2024, 2, 1, 2, 30));
  // Every 10 seconds, from a fractional time.
  EXPECT_EQ(next("*/10 * * * * * *", at(2024, 3, 10, 12) + 5s + 500ms), at(2024, 3, 10, 12, 0, 10));
  EXPECT_EQ(next("*/10 * * * * * *", at(2024, 3, 10, 12) + 500ms), at(2024, 3, 10, 12, 0, 10));
  // 1 = Sunday (the reference's numbering).
  EXPECT_EQ(next("0 0 0 * * 1 *", at(2024, 3, 11)), at(2024, 3, 17));
  EXPECT_EQ(next("@weekly", at(2024, 3, 11)), at(2024, 3, 17));
  // Both day fields must match: the next Friday the 13th.
  EXPECT_EQ(next("0 0 0 13 * FRI *", at(2024, 1, 1)), at(2024, 9, 13));
  // Lists, ranges with steps, "A/S".
  EXPECT_EQ(next("10-40/10 * * * * * *", at(2024, 3, 10, 12, 0, 40)), at(2024, 3, 10, 12, 1, 10));
  EXPECT_EQ(next("5/20 * * * * * *", at(2024, 3, 10, 12, 0, 30)), at(2024, 3, 10, 12, 0, 45));
  EXPECT_EQ(next("0 0 0 1 JAN,jul * *", at(2024, 2, 1)), at(2024, 7, 1));
  // Year ends and leap days.
  EXPECT_EQ(next("0 0 0 1 1 * *", at(2024, 12, 31, 23, 59, 59)), at(2025, 1, 1));
  EXPECT_EQ(next("59 59 23 31 12 * *", at(2024, 12, 31, 23, 59, 59)), at(2025, 12, 31, 23, 59, 59));
  EXPECT_EQ(next("0 0 0 29 2 * *", at(2024, 3, 1)), at(2028, 2, 29));
  EXPECT_EQ(next("0 0 0 31 * * *", at(2024, 4, 1)), at(2024, 5, 31));
  // Six fields: hourly.
  EXPECT_EQ(next("0 0 * * * *", at(2024, 3, 10, 12, 0, 1)), at(2024, 3, 10, 13));
  // The year field: once, then never again.
  EXPECT_EQ(next("0 0 0 1 1 * 2030", at(2024, 6, 1)), at(2030, 1, 1));
  EXPECT_EQ(next("0 0 0 1 1 * 2030", at(2030, 1, 1)), std::nullopt);
  EXPECT_EQ(next("0 0 0 * * * *", at(2100, 12, 31)), std::nullopt);
  // A date that never exists.
  EXPECT_EQ(next("0 0 0 30 2 * *", at(2024, 1, 1)), std::nullopt);
}

}  // namespace
}  // namespace zl::spec
