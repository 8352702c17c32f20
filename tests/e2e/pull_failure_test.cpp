// Pulls that go wrong: a registry that is down, flaky (503s, cut-off downloads) or serves bytes
// that do not match their digest. Transient faults are retried; corruption leaves the store as it was.
#include <chrono>

#include <nlohmann/json.hpp>

#include "e2e/pull_env.h"

namespace zl::testing {
namespace {

TEST_F(PullE2E, RegistryDownIsUnavailableAfterRetries) {
  auto port = free_port();
  ASSERT_TRUE(port);
  std::string host = fmt::format("127.0.0.1:{}", *port);
  auto start = std::chrono::steady_clock::now();
  auto rec = pull(host + "/busybox:latest");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(rec.error().message.starts_with("pull " + host + "/busybox:latest: registry " + host +
                                              " unavailable after 4 attempts: "))
      << rec.error().message;
  EXPECT_NE(rec.error().message.find("onnect"), std::string::npos) << rec.error().message;  // curl's reason
  EXPECT_GE(elapsed, std::chrono::milliseconds(10 + 20 + 40));  // the backoff between the 4 attempts
}

class FlakyRegistryE2E : public PullE2E {
 protected:
  void start(ProxyConfig cfg) {
    auto reg = TestRegistry::start();
    ASSERT_TRUE(reg) << reg.error().message;
    registry_ = std::move(*reg);
    ASSERT_TRUE(push_busybox_image(registry_->host() + "/busybox:1"));
    cfg.upstream = registry_->host();
    auto proxy = TestProxy::start(cfg);
    ASSERT_TRUE(proxy) << proxy.error().message;
    proxy_ = std::move(*proxy);
  }
  std::unique_ptr<TestRegistry> registry_;
  std::unique_ptr<TestProxy> proxy_;
};

TEST_F(FlakyRegistryE2E, ServerErrorsAreRetried) {
  start({.fail_first = 2});
  auto rec = pull(proxy_->host() + "/busybox:1");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(proxy_->stats()->failed, 2);
}

TEST_F(FlakyRegistryE2E, PersistentServerErrorsGiveUp) {
  start({.fail_first = 100});
  auto rec = pull(proxy_->host() + "/busybox:1");
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unavailable);
  EXPECT_NE(rec.error().message.find("unavailable after 4 attempts: image " + proxy_->host() +
                                     "/busybox:1: HTTP 503 (UNAVAILABLE: try again)"),
            std::string::npos)
      << rec.error().message;
  EXPECT_EQ(proxy_->stats()->failed, 4);
}

TEST_F(FlakyRegistryE2E, TruncatedDownloadIsRetried) {
  start({.truncate_first = 1});
  auto rec = pull(proxy_->host() + "/busybox:1");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(proxy_->stats()->truncated, 1);
  EXPECT_TRUE(store_->store().verify()) << store_->store().verify().error().message;
}

TEST_F(FlakyRegistryE2E, DownloadsTruncatedEveryTimeFail) {
  start({.truncate_first = 100});
  auto before = tree_listing(store_->root());
  auto rec = pull(proxy_->host() + "/busybox:1");
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::unavailable) << rec.error().message;
  EXPECT_EQ(tree_listing(store_->root()), before);
}

// A registry whose stored bytes were altered behind its back.
class CorruptRegistryE2E : public PullE2E {
 protected:
  void SetUp() override {
    PullE2E::SetUp();
    auto reg = TestRegistry::start();
    ASSERT_TRUE(reg) << reg.error().message;
    registry_ = std::move(*reg);
    auto d = push_busybox_image(registry_->host() + "/busybox:1");
    ASSERT_TRUE(d) << d.error().message;
    manifest_ = *d;
    auto text = read_file(registry_->blob_data_path(manifest_));
    ASSERT_TRUE(text) << text.error().message;
    auto doc = nlohmann::json::parse(*text);
    layer_ = *Digest::parse(doc["layers"][0]["digest"].get<std::string>());
  }
  // Alters the stored blob without changing its size: one byte in the middle is flipped, or for
  // the (JSON) manifest one hex digit of the layer digest is changed so the registry can still parse it.
  void corrupt(const Digest& d) {
    fs::path p = registry_->blob_data_path(d);
    auto data = read_file(p);
    ASSERT_TRUE(data) << data.error().message;
    if (d == manifest_) {
      auto pos = data->find(std::string(layer_.hex()));
      ASSERT_NE(pos, std::string::npos);
      (*data)[pos] = (*data)[pos] == '0' ? '1' : '0';
    } else {
      (*data)[data->size() / 2] ^= 0x55;
    }
    ASSERT_TRUE(write_file_atomic(p, *data));
  }
  std::unique_ptr<TestRegistry> registry_;
  Digest manifest_ = sha256_of(""), layer_ = sha256_of("");
};

TEST_F(CorruptRegistryE2E, LayerNotMatchingItsDigestIsCorruptAndStoresNothing) {
  corrupt(layer_);
  auto before = tree_listing(store_->root());
  auto rec = pull(registry_->host() + "/busybox:1");
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::corrupt) << rec.error().message;
  EXPECT_NE(rec.error().message.find("blob " + layer_.str()), std::string::npos) << rec.error().message;
  EXPECT_NE(rec.error().message.find("does not match its digest"), std::string::npos) << rec.error().message;
  EXPECT_EQ(tree_listing(store_->root()), before);
  auto list = store_->store().index().list();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST_F(CorruptRegistryE2E, ManifestNotMatchingItsDigestIsCorruptAndStoresNothing) {
  corrupt(manifest_);
  auto before = tree_listing(store_->root());
  auto rec = pull(registry_->host() + "/busybox@" + manifest_.str());
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::corrupt) << rec.error().message;
  EXPECT_NE(rec.error().message.find("does not match its digest"), std::string::npos) << rec.error().message;
  EXPECT_EQ(tree_listing(store_->root()), before);
}

TEST_F(CorruptRegistryE2E, AGoodImageStillPullsAfterAFailedOne) {
  corrupt(layer_);
  ASSERT_FALSE(pull(registry_->host() + "/busybox:1"));
  // Another image from the same registry pulls as if nothing had happened.
  auto again = push_busybox_image(registry_->host() + "/other:1", {}, {}, "different");
  ASSERT_TRUE(again) << again.error().message;
  auto rec = pull(registry_->host() + "/other:1");
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_TRUE(store_->store().verify()) << store_->store().verify().error().message;
}

}  // namespace
}  // namespace zl::testing
