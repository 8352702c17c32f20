// ImageIndex: images.json round trip, upsert, removal, concurrent writers under the lock.
#include <gtest/gtest.h>

#include <thread>

#include "store/image_index.h"

namespace zl {
namespace {

ImageRecord record(std::string ref, std::string_view seed) {
  return ImageRecord{.reference = std::move(ref),
                     .manifest_digest = sha256_of(std::string("manifest") + std::string(seed)),
                     .config_digest = sha256_of(std::string("config") + std::string(seed)),
                     .platform = "linux/amd64",
                     .created_unix = 1700000000};
}

class ImageIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-index-test-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
  }
  std::optional<TempDir> tmp_;
};

TEST_F(ImageIndexTest, EmptyWhenMissing) {
  ImageIndex index(tmp_->path());
  EXPECT_TRUE(index.list()->empty());
  EXPECT_FALSE(index.find("docker.io/library/busybox:latest")->has_value());
}

TEST_F(ImageIndexTest, RoundTripUpsertRemove) {
  ImageIndex index(tmp_->path());
  auto a = record("docker.io/library/busybox:1.36", "a");
  a.index_digest = sha256_of("index");
  ASSERT_TRUE(index.put(a));
  ASSERT_TRUE(index.put(record("docker.io/library/alpine:3.19", "b")));
  auto again = ImageIndex(tmp_->path()).find(a.reference);
  ASSERT_TRUE(again && again->has_value());
  EXPECT_EQ((*again)->manifest_digest, a.manifest_digest);
  EXPECT_EQ((*again)->config_digest, a.config_digest);
  EXPECT_EQ((*again)->index_digest, a.index_digest);
  EXPECT_EQ((*again)->platform, "linux/amd64");
  EXPECT_EQ((*again)->created_unix, 1700000000);

  ASSERT_TRUE(index.put(record(a.reference, "c")));  // upsert moves the tag
  auto list = index.list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*index.find(a.reference))->config_digest, sha256_of("configc"));
  EXPECT_FALSE((*index.find(a.reference))->index_digest);

  ASSERT_TRUE(index.remove(a.reference));
  EXPECT_EQ(index.remove(a.reference).error().kind, ErrorKind::not_found);
  EXPECT_EQ(index.list()->size(), 1u);
  EXPECT_TRUE(fs::exists(tmp_->path() / "locks" / "images.lock"));
}

TEST_F(ImageIndexTest, ConcurrentPutsKeepEveryRecord) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ImageIndex index(tmp_->path());
      for (int i = 0; i < 10; ++i) {
        auto st = index.put(record(fmt::format("example.com/img{}:{}", t, i), std::to_string(t * 100 + i)));
        ASSERT_TRUE(st) << st.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ImageIndex(tmp_->path()).list()->size(), 40u);
}

TEST_F(ImageIndexTest, CorruptFileIsReportedNotOverwritten) {
  ASSERT_TRUE(write_file_atomic(tmp_->path() / "images.json", "{not json"));
  ImageIndex index(tmp_->path());
  auto list = index.list();
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().kind, ErrorKind::corrupt);
  EXPECT_FALSE(index.put(record("a:1", "a")));
  EXPECT_EQ(*read_file(tmp_->path() / "images.json"), "{not json");
}

}  // namespace
}  // namespace zl
