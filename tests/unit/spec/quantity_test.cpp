// Memory sizes: binary and decimal suffixes, bytes, fractions, ambiguity, overflow, printing.
#include <gtest/gtest.h>

#include "spec/quantity.h"

namespace zl::spec {
namespace {

TEST(Quantity, BinaryDecimalAndBytes) {
  EXPECT_EQ(*parse_memory_size("512Mi"), 512LL << 20);
  EXPECT_EQ(*parse_memory_size("1Gi"), 1LL << 30);
  EXPECT_EQ(*parse_memory_size("2Ti"), 2LL << 40);
  EXPECT_EQ(*parse_memory_size("64Ki"), 64LL << 10);
  EXPECT_EQ(*parse_memory_size("256M"), 256000000);
  EXPECT_EQ(*parse_memory_size("1G"), 1000000000);
  EXPECT_EQ(*parse_memory_size("10k"), 10000);
  EXPECT_EQ(*parse_memory_size("10K"), 10000);
  EXPECT_EQ(*parse_memory_size("1048576"), 1048576);
  EXPECT_EQ(*parse_memory_size("0"), 0);
  EXPECT_EQ(*parse_memory_size("1.5Gi"), 3LL << 29);
  EXPECT_EQ(*parse_memory_size("0.5M"), 500000);
  EXPECT_EQ(*parse_memory_size("7Ei"), 7LL << 60);
}

TEST(Quantity, RefusesWithTheReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const auto& c :
       {Case{"", "it is empty"}, Case{"Mi", "it does not start with a number"},
        Case{"-1Gi", "a size has no sign"}, Case{"512MB", "unknown suffix \"MB\""},
        Case{"512m", "the suffix \"m\" is ambiguous (write Mi for powers of 1024 or M"},
        Case{"1g", "the suffix \"g\" is ambiguous"}, Case{"0.1Ki", "it is not a whole number of bytes"},
        Case{"8Ei", "it is too large"}, Case{"99999999999999999999", "it is too large"},
        Case{"1.", "a number is missing after the decimal point"}}) {
    auto n = parse_memory_size(c.text);
    ASSERT_FALSE(n) << c.text;
    EXPECT_EQ(n.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(n.error().message.find(fmt::format("invalid size \"{}\": {}", c.text, c.why)),
              std::string::npos)
        << n.error().message;
  }
}

TEST(Quantity, FormatsShortestExactAndRoundTrips) {
  EXPECT_EQ(format_memory_size(512LL << 20), "512Mi");
  EXPECT_EQ(format_memory_size(3LL << 29), "1536Mi");
  EXPECT_EQ(format_memory_size(256000000), "256M");
  EXPECT_EQ(format_memory_size(1000), "1k");
  EXPECT_EQ(format_memory_size(1024000), "1024k");
  EXPECT_EQ(format_memory_size(1LL << 30), "1Gi");
  EXPECT_EQ(format_memory_size(1000000000), "1G");
  EXPECT_EQ(format_memory_size(1023), "1023");
  EXPECT_EQ(format_memory_size(0), "0");
  for (int64_t n : {int64_t{1}, int64_t{4096}, int64_t{999999}, int64_t{5} << 50, INT64_MAX})
    EXPECT_EQ(*parse_memory_size(format_memory_size(n)), n) << format_memory_size(n);
}

}  // namespace
}  // namespace zl::spec
