#include "runtime/windows/portable/guid.h"

#include <gtest/gtest.h>

#include <set>

namespace zl::win {
namespace {

TEST(HcsGuid, ParsesWithAndWithoutBracesAnyCase) {
  auto a = parse_guid("3F2504E0-4F89-11D3-9A0C-0305E82C3301");
  auto b = parse_guid("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}");
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->bytes[0], 0x3f);
  EXPECT_EQ(a->bytes[15], 0x01);
  EXPECT_EQ(a->str(), "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  EXPECT_EQ(a->str(true), "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}");
}

TEST(HcsGuid, RefusesMalformed) {
  for (const char* bad : {"", "3f2504e0", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301",
                          "3f2504e0-4f89-11d3-9a0c-0305e82c330g", "3f2504e04f89-11d3-9a0c-0305e82c3301x",
                          "3f2504e0-4f8911d3-9a0c-0305e82c3301-", "(3f2504e0-4f89-11d3-9a0c-0305e82c3301)"}) {
    auto g = parse_guid(bad);
    ASSERT_FALSE(g) << bad;
    EXPECT_EQ(g.error().kind, ErrorKind::invalid_argument);
  }
}

TEST(HcsGuid, RandomIsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    Guid g = random_guid();
    EXPECT_EQ(g.bytes[6] >> 4, 4);
    EXPECT_EQ(g.bytes[8] & 0xc0, 0x80);
    EXPECT_FALSE(g.is_nil());
    EXPECT_TRUE(seen.insert(g.str()).second);
    EXPECT_EQ(*parse_guid(g.str()), g);
  }
}

TEST(HcsGuid, FromDigestIsStable) {
  auto g = guid_from_digest("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->str(), "01234567-89ab-cdef-0123-456789abcdef");
  EXPECT_FALSE(guid_from_digest("sha256:0123"));
  EXPECT_FALSE(guid_from_digest("sha256:zz23456789abcdef0123456789abcdef"));
}

}  // namespace
}  // namespace zl::win
