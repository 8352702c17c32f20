// A service's public endpoints become the replica's published ports; internal ones do not.
#include <gtest/gtest.h>

#include "agent/replica_spec.h"
#include "spec/parse.h"

namespace zl {
namespace {

TEST(ReplicaPorts, PublicEndpointsArePublished) {
  auto d = spec::load_deployment(ZLAYER_UNIT_TEST_DIR "/spec/full.zlayer.yml");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(spec::resolve_env(*d, [](const std::string&) -> std::optional<std::string> { return "x"; }));
  auto web = container_spec_for(*d, "web", 0);
  ASSERT_TRUE(web) << web.error().message;
  // http :80 -> 8080, public; metrics :9100 internal.
  ASSERT_EQ(web->ports.size(), 1u);
  EXPECT_EQ(web->ports[0], (PortMapping{"", 80, 8080, "tcp"}));
  EXPECT_EQ(web->labels.at("zlayer.service"), "web");
  EXPECT_EQ(web->labels.at("zlayer.replica"), "0");
  // A host port takes one container: the other replicas publish nothing.
  auto second = container_spec_for(*d, "web", 1);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->ports.empty());
}

}  // namespace
}  // namespace zl
