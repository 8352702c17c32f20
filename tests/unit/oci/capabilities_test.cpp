// Capabilities: docker's defaults, add/drop/ALL/privileged, name forms, and the host's limits.
#include <gtest/gtest.h>

#include <algorithm>

#include "oci/capabilities.h"

namespace zl {
namespace {

std::set<std::string> all_caps() {
  std::set<std::string> out;
  for (const auto& c : known_capabilities()) out.insert(c.name);
  return out;
}

bool has(const std::vector<std::string>& caps, const std::string& c) {
  return std::find(caps.begin(), caps.end(), c) != caps.end();
}

TEST(Capabilities, DefaultsAreDockers) {
  auto caps = resolve_capabilities({}, {}, false, all_caps());
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_EQ(caps->size(), 14u);
  for (const char* c : {"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"})
    EXPECT_TRUE(has(*caps, c)) << c;
  EXPECT_FALSE(has(*caps, "CAP_SYS_ADMIN"));
}

TEST(Capabilities, AddAndDropAcceptEveryNameForm) {
  auto caps = resolve_capabilities({"net_admin", "CAP_SYS_PTRACE", "Sys_Time"}, {"cap_chown", "MKNOD"}, false,
                                   all_caps());
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_TRUE(has(*caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(has(*caps, "CAP_SYS_PTRACE"));
  EXPECT_TRUE(has(*caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(has(*caps, "CAP_CHOWN"));
  EXPECT_FALSE(has(*caps, "CAP_MKNOD"));
  EXPECT_EQ(caps->size(), 14u + 3 - 2);
  // Kernel order, so the config is stable.
  EXPECT_TRUE(std::is_sorted(caps->begin(), caps->end(), [](const std::string& a, const std::string& b) {
    auto num = [](const std::string& n) {
      for (const auto& c : known_capabilities())
        if (c.name == n) return c.number;
      return -1;
    };
    return num(a) < num(b);
  }));
}

TEST(Capabilities, AllAndDropAll) {
  auto all = resolve_capabilities({"ALL"}, {"SYS_ADMIN"}, false, all_caps());
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), known_capabilities().size() - 1);
  EXPECT_FALSE(has(*all, "CAP_SYS_ADMIN"));

  auto only = resolve_capabilities({"NET_BIND_SERVICE"}, {"all"}, false, all_caps());
  ASSERT_TRUE(only);
  EXPECT_EQ(*only, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});

  auto none = resolve_capabilities({}, {"ALL"}, false, all_caps());
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Capabilities, UnknownNameIsRefusedByName) {
  auto caps = resolve_capabilities({"NET_ADMIN", "CAP_FLY"}, {}, false, all_caps());
  ASSERT_FALSE(caps);
  EXPECT_EQ(caps.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(caps.error().message.find("CAP_FLY"), std::string::npos) << caps.error().message;

  auto drop = resolve_capabilities({}, {"bogus"}, false, all_caps());
  ASSERT_FALSE(drop);
  EXPECT_NE(drop.error().message.find("bogus"), std::string::npos);
}

TEST(Capabilities, LimitedToWhatTheHostHolds) {
  std::set<std::string> host = all_caps();
  host.erase("CAP_SYS_RESOURCE");
  host.erase("CAP_MKNOD");

  auto priv = resolve_capabilities({}, {}, true, host);
  ASSERT_TRUE(priv);
  EXPECT_EQ(priv->size(), host.size());
  EXPECT_FALSE(has(*priv, "CAP_SYS_RESOURCE"));

  auto all = resolve_capabilities({"ALL"}, {}, false, host);
  ASSERT_TRUE(all);
  EXPECT_FALSE(has(*all, "CAP_SYS_RESOURCE"));

  auto defaults = resolve_capabilities({}, {}, false, host);  // a default the host lacks is left out
  ASSERT_TRUE(defaults);
  EXPECT_FALSE(has(*defaults, "CAP_MKNOD"));
  EXPECT_EQ(defaults->size(), 13u);

  auto explicit_add = resolve_capabilities({"SYS_RESOURCE"}, {}, false, host);
  ASSERT_FALSE(explicit_add);
  EXPECT_EQ(explicit_add.error().kind, ErrorKind::permission_denied);
  EXPECT_NE(explicit_add.error().message.find("CAP_SYS_RESOURCE"), std::string::npos);
}

}  // namespace
}  // namespace zl
