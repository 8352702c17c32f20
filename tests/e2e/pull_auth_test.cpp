// Authenticated pulls: htpasswd basic auth on docker-registry, and the bearer-token flow through
// a token-issuing proxy; good, wrong and missing credentials; the /v2/ ping used by login.
#include "e2e/pull_env.h"

namespace zl::testing {
namespace {

const Credentials kUser{"alice", "correct horse"};
const Credentials kWrong{"alice", "wrong"};

class BasicAuthE2E : public PullE2E {
 protected:
  void SetUp() override {
    PullE2E::SetUp();
    auto reg = TestRegistry::start({.basic_auth = kUser});
    ASSERT_TRUE(reg) << reg.error().message;
    registry_ = std::move(*reg);
    ref_ = registry_->host() + "/private/busybox:1";
    auto d = push_busybox_image(ref_, {.creds = kUser});
    ASSERT_TRUE(d) << d.error().message;
  }
  std::unique_ptr<TestRegistry> registry_;
  std::string ref_;
};

TEST_F(BasicAuthE2E, GoodCredentialsPull) {
  opts_.credentials = kUser;
  auto rec = pull(ref_);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(layer_dirs(*rec).size(), 1u);
}

TEST_F(BasicAuthE2E, CredentialsFromTheDockerConfigFile) {
  ASSERT_TRUE(save_login(registry_->host(), kUser.username, kUser.password, opts_.auth_config));
  auto rec = pull(ref_);
  ASSERT_TRUE(rec) << rec.error().message;
}

TEST_F(BasicAuthE2E, WrongCredentialsAreUnauthorized) {
  opts_.credentials = kWrong;
  auto rec = pull(ref_);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unauthorized) << rec.error().message;
  EXPECT_NE(rec.error().message.find("rejected the credentials for user alice"), std::string::npos)
      << rec.error().message;
}

TEST_F(BasicAuthE2E, MissingCredentialsAskForALogin) {
  auto rec = pull(ref_);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unauthorized) << rec.error().message;
  EXPECT_NE(rec.error().message.find("requires a login (zlayer login " + registry_->host() + ")"),
            std::string::npos)
      << rec.error().message;
}

TEST_F(BasicAuthE2E, PingChecksTheLogin) {
  auto good = RegistryClient::create(registry_->host(), {.credentials = kUser});
  ASSERT_TRUE(good);
  EXPECT_TRUE((*good)->ping());
  auto bad = RegistryClient::create(registry_->host(), {.credentials = kWrong});
  ASSERT_TRUE(bad);
  auto st = (*bad)->ping();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unauthorized);
}

class BearerAuthE2E : public PullE2E {
 protected:
  void start(const std::string& token_field) {
    auto reg = TestRegistry::start();
    ASSERT_TRUE(reg) << reg.error().message;
    registry_ = std::move(*reg);
    ASSERT_TRUE(push_layered_image(registry_->host() + "/team/app:1"));
    auto proxy =
        TestProxy::start({.upstream = registry_->host(), .bearer_auth = kUser, .token_field = token_field});
    ASSERT_TRUE(proxy) << proxy.error().message;
    proxy_ = std::move(*proxy);
    ref_ = proxy_->host() + "/team/app:1";
  }
  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestProxy> proxy_;
  std::string ref_;
};

TEST_F(BearerAuthE2E, TokenFlowPullsAndCachesTheTokenPerScope) {
  start("token");
  opts_.credentials = kUser;
  auto rec = pull(ref_);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(layer_dirs(*rec).size(), 3u);
  auto stats = proxy_->stats();
  ASSERT_TRUE(stats);
  // manifest + config + 3 layers, all with the one token fetched for repository:team/app:pull.
  EXPECT_EQ(stats->token_requests, 1);
  EXPECT_EQ(stats->proxied, 5);
}

TEST_F(BearerAuthE2E, AccessTokenFieldIsAccepted) {
  start("access_token");
  opts_.credentials = kUser;
  auto rec = pull(ref_);
  ASSERT_TRUE(rec) << rec.error().message;
}

TEST_F(BearerAuthE2E, WrongCredentialsAreUnauthorized) {
  start("token");
  opts_.credentials = kWrong;
  auto rec = pull(ref_);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unauthorized) << rec.error().message;
  EXPECT_NE(rec.error().message.find("token server rejected the credentials for user alice"),
            std::string::npos)
      << rec.error().message;
}

TEST_F(BearerAuthE2E, PingGetsATokenWithoutScope) {
  start("token");
  auto good = RegistryClient::create(proxy_->host(), {.credentials = kUser});
  ASSERT_TRUE(good);
  EXPECT_TRUE((*good)->ping());
  auto bad = RegistryClient::create(proxy_->host(), {.credentials = kWrong});
  ASSERT_TRUE(bad);
  auto st = (*bad)->ping();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::unauthorized);
}

}  // namespace
}  // namespace zl::testing
