// `-p [hostip:]hostport:containerport[/proto]`.
#include <gtest/gtest.h>

#include "net/port_spec.h"

namespace zl::net {
namespace {

TEST(PortSpec, Forms) {
  auto a = parse_port_spec("8080:80");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (PortMapping{"", 8080, 80, "tcp"}));
  auto b = parse_port_spec("127.0.0.1:5353:53/udp");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(*b, (PortMapping{"127.0.0.1", 5353, 53, "udp"}));
  auto c = parse_port_spec(":9000:90/tcp");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(*c, (PortMapping{"", 9000, 90, "tcp"}));
  EXPECT_EQ(format_port_mapping(*b), "127.0.0.1:5353->53/udp");
  EXPECT_EQ(format_port_mapping(*a), "0.0.0.0:8080->80/tcp");
}

TEST(PortSpec, Errors) {
  for (const char* bad : {"80", "0:80", "8080:0", "70000:80", "8080:80/sctp", "a:80", "8080-8090:80",
                          "300.1.1.1:80:80", "8080:", ":80"}) {
    auto r = parse_port_spec(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
      EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
    }
  }
}

}  // namespace
}  // namespace zl::net
