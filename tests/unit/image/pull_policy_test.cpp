// Pull policy names as the CLI and specs spell them.
#include <gtest/gtest.h>

#include "image/puller.h"

namespace zl {
namespace {

TEST(PullPolicy, ParsesNames) {
  EXPECT_EQ(*parse_pull_policy("always"), PullPolicy::always);
  EXPECT_EQ(*parse_pull_policy("newer"), PullPolicy::newer);
  EXPECT_EQ(*parse_pull_policy("if_not_present"), PullPolicy::if_not_present);
  EXPECT_EQ(*parse_pull_policy("if-not-present"), PullPolicy::if_not_present);
  EXPECT_EQ(*parse_pull_policy("never"), PullPolicy::never);
  auto bad = parse_pull_policy("sometimes");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("invalid pull policy \"sometimes\""), std::string::npos);
  EXPECT_EQ(to_string(PullPolicy::if_not_present), "if_not_present");
}

}  // namespace
}  // namespace zl
