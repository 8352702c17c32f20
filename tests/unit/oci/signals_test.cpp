// Signal parsing: names with or without SIG in any case, numbers, real-time signals, bad input.
#include <gtest/gtest.h>

#include <csignal>

#include "oci/signals.h"

namespace zl {
namespace {

TEST(Signals, NamesAndNumbers) {
  EXPECT_EQ(*parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(*parse_signal("sigkill"), SIGKILL);
  EXPECT_EQ(*parse_signal("hup"), SIGHUP);
  EXPECT_EQ(*parse_signal("SIGUSR1"), SIGUSR1);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_EQ(*parse_signal("64"), 64);
  EXPECT_EQ(*parse_signal("SIGRTMIN"), 34);
  EXPECT_EQ(*parse_signal("RTMIN+3"), 37);
  EXPECT_EQ(*parse_signal("SIGRTMAX-2"), 62);
  EXPECT_EQ(*parse_signal("SIGWINCH"), SIGWINCH);
}

TEST(Signals, BadOnesAreRefusedByName) {
  for (const char* bad : {"SIGFOO", "", "0", "65", "-1", "SIG", "TERM ", "RTMIN+31", "15x"}) {
    auto r = parse_signal(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_NE(r.error().message.find(std::string("\"") + bad + "\""), std::string::npos) << r.error().message;
  }
}

TEST(Signals, NamesRoundTrip) {
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGIO), "SIGIO");
  EXPECT_EQ(signal_name(35), "SIGRTMIN+1");
  EXPECT_EQ(signal_name(64), "SIGRTMAX");
  EXPECT_EQ(signal_name(0), "");
  for (int s = 1; s <= 64; ++s) {
    std::string name = signal_name(s);
    if (!name.empty()) {
      EXPECT_EQ(*parse_signal(name), s) << name;
    }
  }
}

}  // namespace
}  // namespace zl
