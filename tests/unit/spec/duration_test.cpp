// Durations as written in specs: the units, sums of pieces, canonical printing, refusals.
#include <gtest/gtest.h>

#include "spec/duration.h"

namespace zl::spec {
namespace {

using namespace std::chrono_literals;

TEST(Duration, UnitsAndSums) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("5s"), 5s);
  EXPECT_EQ(*parse_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_duration("2h"), 2h);
  EXPECT_EQ(*parse_duration("1h 30m"), 90min);
  EXPECT_EQ(*parse_duration("1d"), 24h);
  EXPECT_EQ(*parse_duration("1w"), 7 * 24h);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("7ns"), 7ns);
  EXPECT_EQ(*parse_duration("3 seconds"), 3s);
  EXPECT_EQ(*parse_duration("2mins 1sec"), 121s);
  EXPECT_EQ(*parse_duration("0s"), 0s);
  EXPECT_EQ(*parse_duration(" 10s "), 10s);
}

TEST(Duration, RefusesWithTheReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const auto& c :
       {Case{"", "it is empty"}, Case{"30", "the number 30 has no unit"}, Case{"5x", "unknown unit \"x\""},
        Case{"1.5s", "fractions are not allowed"}, Case{"-5s", "a duration has no sign"},
        Case{"s", "\"s\" is not a number"}, Case{"5M", "unknown unit \"M\""},
        Case{"99999999999999999999s", "it is too long"}, Case{"300000w", "it is too long"}}) {
    auto d = parse_duration(c.text);
    ASSERT_FALSE(d) << c.text;
    EXPECT_EQ(d.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(d.error().message.find(fmt::format("invalid duration \"{}\": {}", c.text, c.why)),
              std::string::npos)
        << d.error().message;
  }
}

TEST(Duration, FormatsCanonicallyAndRoundTrips) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1500ms), "1s500ms");
  EXPECT_EQ(format_duration(26h), "1d2h");
  EXPECT_EQ(format_duration(8 * 24h), "1w1d");
  EXPECT_EQ(format_duration(1001us), "1ms1us");
  for (Duration d :
       {Duration(0s), Duration(1ns), Duration(90s), Duration(1500ms), Duration(123456789012345ns)})
    EXPECT_EQ(*parse_duration(format_duration(d)), d) << format_duration(d);
}

TEST(Duration, CeilSeconds) {
  EXPECT_EQ(ceil_seconds(0s), 0);
  EXPECT_EQ(ceil_seconds(1ns), 1);
  EXPECT_EQ(ceil_seconds(20s), 20);
  EXPECT_EQ(ceil_seconds(20500ms), 21);
}

}  // namespace
}  // namespace zl::spec
