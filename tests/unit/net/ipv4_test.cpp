// Subnets: parsing, containment, and slicing the cluster range into /24s.
#include <gtest/gtest.h>

#include "net/ipv4.h"

namespace zl::net {
namespace {

TEST(Ipv4, ParseAndFormat) {
  auto a = parse_ipv4("10.200.0.5");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, 0x0ac80005u);
  EXPECT_EQ(format_ipv4(*a), "10.200.0.5");
  for (const char* bad : {"", "10.200.0", "10.200.0.256", "10.200.0.5.1", "a.b.c.d", "10.200.0.5 ", "1..2.3"})
    EXPECT_FALSE(parse_ipv4(bad)) << bad;
}

TEST(Ipv4Net, ParseChecksPrefixAndHostBits) {
  auto n = Ipv4Net::parse("10.200.0.0/16");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->prefix, 16);
  EXPECT_EQ(n->str(), "10.200.0.0/16");
  EXPECT_EQ(n->size(), 65536u);
  EXPECT_EQ(format_ipv4(n->last()), "10.200.255.255");
  EXPECT_EQ(format_ipv4(n->gateway()), "10.200.0.1");
  auto host_bits = Ipv4Net::parse("10.200.0.1/16");
  ASSERT_FALSE(host_bits);
  EXPECT_NE(host_bits.error().message.find("10.200.0.0/16"), std::string::npos) << host_bits.error().message;
  for (const char* bad : {"10.200.0.0", "10.200.0.0/33", "10.200.0.0/-1", "10.200.0.0/x", "x/8"})
    EXPECT_FALSE(Ipv4Net::parse(bad)) << bad;
  EXPECT_TRUE(Ipv4Net::parse("0.0.0.0/0"));
}

TEST(Ipv4Net, ContainsAndOverlaps) {
  auto cluster = *Ipv4Net::parse("10.200.0.0/16");
  auto node = *Ipv4Net::parse("10.200.3.0/24");
  auto other = *Ipv4Net::parse("10.201.0.0/24");
  EXPECT_TRUE(cluster.contains(node));
  EXPECT_FALSE(node.contains(cluster));
  EXPECT_TRUE(cluster.overlaps(node));
  EXPECT_TRUE(node.overlaps(cluster));
  EXPECT_FALSE(cluster.overlaps(other));
  EXPECT_TRUE(node.contains(*parse_ipv4("10.200.3.200")));
  EXPECT_FALSE(node.contains(*parse_ipv4("10.200.4.1")));
}

TEST(Ipv4Net, NextFreeSubnetSkipsTakenOnes) {
  auto cluster = *Ipv4Net::parse("10.200.0.0/16");
  std::vector<Ipv4Net> used = {*Ipv4Net::parse("10.200.0.0/24"), *Ipv4Net::parse("10.200.1.0/24"),
                               *Ipv4Net::parse("10.200.2.128/25")};
  auto n = next_free_subnet(cluster, 24, used);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(n->str(), "10.200.3.0/24");
  used.push_back(*n);
  EXPECT_EQ(next_free_subnet(cluster, 24, used)->str(), "10.200.4.0/24");
}

TEST(Ipv4Net, ExhaustedRangeIsUnavailable) {
  auto small = *Ipv4Net::parse("10.9.0.0/23");
  std::vector<Ipv4Net> used = {*Ipv4Net::parse("10.9.0.0/24"), *Ipv4Net::parse("10.9.1.0/24")};
  auto n = next_free_subnet(small, 24, used);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().kind, ErrorKind::unavailable);
  EXPECT_EQ(n.error().message, "cluster range 10.9.0.0/23 has no free /24 subnet left");
  EXPECT_FALSE(next_free_subnet(small, 22, {}));  // bigger than the range
}

}  // namespace
}  // namespace zl::net
