// Pull policies against a real registry behind a counting proxy: what each policy sends to the
// registry (nothing, a HEAD, a full manifest fetch) and what it returns.
#include "e2e/pull_env.h"

namespace zl::testing {
namespace {

class PullPolicyE2E : public PullE2E {
 protected:
  void SetUp() override {
    PullE2E::SetUp();
    auto reg = TestRegistry::start();
    ASSERT_TRUE(reg) << reg.error().message;
    registry_ = std::move(*reg);
    auto proxy = TestProxy::start({.upstream = registry_->host()});
    ASSERT_TRUE(proxy) << proxy.error().message;
    proxy_ = std::move(*proxy);
    auto d = push_busybox_image(registry_->host() + "/app:v1", {}, {}, "first");
    ASSERT_TRUE(d) << d.error().message;
    first_ = *d;
    ref_ = proxy_->host() + "/app:v1";  // pulls go through the proxy, pushes straight to the registry
  }
  int requests() {
    auto s = proxy_->stats();
    EXPECT_TRUE(s) << s.error().message;
    return s ? s->proxied : -1;
  }
  PullOptions policy(PullPolicy p) { return PullOptions{.policy = p}; }

  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestProxy> proxy_;
  Digest first_ = sha256_of("");
  std::string ref_;
};

TEST_F(PullPolicyE2E, NeverFailsWhenAbsentWithoutContactingTheRegistry) {
  auto rec = pull(ref_, policy(PullPolicy::never));
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::not_found);
  EXPECT_EQ(rec.error().message, "pull " + ref_ + ": not present locally and the pull policy is never");
  EXPECT_EQ(requests(), 0);
}

TEST_F(PullPolicyE2E, NeverReturnsTheLocalImage) {
  ASSERT_TRUE(pull(ref_));
  int before = requests();
  auto rec = pull(ref_, policy(PullPolicy::never));
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->manifest_digest, first_);
  EXPECT_EQ(requests(), before);
}

TEST_F(PullPolicyE2E, NeverFindsADigestPulledUnderATag) {
  ASSERT_TRUE(pull(ref_));
  int before = requests();
  std::string by_digest = proxy_->host() + "/app@" + first_.str();
  auto rec = pull(by_digest, policy(PullPolicy::never));
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->reference, by_digest);
  EXPECT_EQ(rec->manifest_digest, first_);
  EXPECT_EQ(requests(), before);
}

TEST_F(PullPolicyE2E, IfNotPresentPullsOnceThenUsesTheLocalImage) {
  auto rec = pull(ref_);  // the default policy
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->manifest_digest, first_);
  int after_first = requests();
  EXPECT_GT(after_first, 0);
  ASSERT_TRUE(push_busybox_image(registry_->host() + "/app:v1", {}, {}, "second"));
  auto again = pull(ref_, policy(PullPolicy::if_not_present));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->manifest_digest, first_);  // not re-pulled although the tag moved
  EXPECT_EQ(requests(), after_first);
}

TEST_F(PullPolicyE2E, NewerOnlyRepullsWhenTheTagMoved) {
  ASSERT_TRUE(pull(ref_));
  int before = requests();
  auto same = pull(ref_, policy(PullPolicy::newer));
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(same->manifest_digest, first_);
  EXPECT_EQ(requests(), before + 1);  // one HEAD of the manifest

  auto second = push_busybox_image(registry_->host() + "/app:v1", {}, {}, "second");
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_NE(*second, first_);
  auto moved = pull(ref_, policy(PullPolicy::newer));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->manifest_digest, *second);
  auto found = store_->store().index().find(proxy_->host() + "/app:v1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->manifest_digest, *second);
}

TEST_F(PullPolicyE2E, NewerKeepsTheLocalImageWhenTheRegistryIsDown) {
  ASSERT_TRUE(pull(ref_));
  registry_->stop();
  proxy_.reset();
  auto rec = pull(ref_, policy(PullPolicy::newer));
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->manifest_digest, first_);
}

TEST_F(PullPolicyE2E, AlwaysFetchesTheManifestButNotPresentBlobs) {
  ASSERT_TRUE(pull(ref_));
  int before = requests();
  std::vector<BlobProgress> events;
  auto rec = pull(
      ref_, {.policy = PullPolicy::always, .progress = [&](const BlobProgress& p) { events.push_back(p); }});
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(requests(), before + 1);  // the manifest GET; config and layer are already here
  for (const auto& e : events) EXPECT_EQ(e.state, BlobProgress::State::already_exists);

  auto second = push_busybox_image(registry_->host() + "/app:v1", {}, {}, "second");
  ASSERT_TRUE(second);
  auto moved = pull(ref_, policy(PullPolicy::always));
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->manifest_digest, *second);
}

}  // namespace
}  // namespace zl::testing
