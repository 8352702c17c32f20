// ContentStore: verified, atomic blob writes; corruption detection; stale ingest cleanup.
#include <gtest/gtest.h>

#include <fstream>

#include "store/content_store.h"

namespace zl {
namespace {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-cs-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    tmp_.emplace(std::move(*dir));
    ASSERT_TRUE(store().init());
  }
  ContentStore& store() { return store_ ? *store_ : store_.emplace(tmp_->path()); }
  fs::path ingest() const { return tmp_->path() / "ingest"; }
  size_t ingest_files() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(ingest()))
      if (e.path().filename() != ".gate") ++n;
    return n;
  }

  std::optional<TempDir> tmp_;
  std::optional<ContentStore> store_;
};

TEST_F(ContentStoreTest, PutReadListRemove) {
  auto d = store().put("hello");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(*d, sha256_of("hello"));
  EXPECT_TRUE(fs::is_regular_file(tmp_->path() / "blobs" / "sha256" / std::string(d->hex())));
  EXPECT_TRUE(store().has(*d));
  EXPECT_EQ(*store().size(*d), 5u);
  EXPECT_EQ(*store().read(*d), "hello");
  EXPECT_EQ(*store().list(), std::vector<Digest>{*d});
  EXPECT_TRUE(store().verify(*d));
  ASSERT_TRUE(store().remove(*d));
  EXPECT_FALSE(store().has(*d));
  EXPECT_EQ(store().remove(*d).error().kind, ErrorKind::not_found);
  EXPECT_EQ(store().read(*d).error().kind, ErrorKind::not_found);
  EXPECT_EQ(ingest_files(), 0u);
}

TEST_F(ContentStoreTest, WriterCommitsOnlyMatchingDigest) {
  Digest expected = sha256_of("the real content");
  auto w = store().writer(expected);
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(w->write("other content"));
  auto st = w->commit();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  EXPECT_NE(st.error().message.find(expected.str()), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(sha256_of("other content").str()), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(store().has(expected));
  EXPECT_EQ(ingest_files(), 0u);
}

TEST_F(ContentStoreTest, WriterChecksSize) {
  Digest expected = sha256_of("12345");
  auto w = store().writer(expected, 6);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("12345"));
  auto st = w->commit();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  auto w2 = store().writer(expected, 4);
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->write("12345").error().kind, ErrorKind::corrupt);
  EXPECT_FALSE(store().has(expected));
}

TEST_F(ContentStoreTest, HalfWrittenBlobNeverVisible) {
  std::string data(1 << 20, 'x');
  Digest d = sha256_of(data);
  {
    auto w = store().writer(d, data.size());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(std::string_view(data).substr(0, 1000)));
    EXPECT_FALSE(store().has(d));
    EXPECT_FALSE(fs::exists(store().blob_path(d)));
    EXPECT_EQ(ingest_files(), 1u);
  }  // abandoned
  EXPECT_EQ(ingest_files(), 0u);
  EXPECT_FALSE(store().has(d));
  auto w = store().writer(d, data.size());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write(data));
  BlobWriter moved = std::move(*w);
  ASSERT_TRUE(moved.commit());
  EXPECT_EQ(*store().read(d), data);
  EXPECT_EQ(ingest_files(), 0u);
}

TEST_F(ContentStoreTest, ResetStartsOver) {
  Digest d = sha256_of("good");
  auto w = store().writer(d);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("garbage from a broken download"));
  ASSERT_TRUE(w->reset());
  EXPECT_EQ(w->written(), 0u);
  ASSERT_TRUE(w->write("good"));
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(*store().read(d), "good");
}

TEST_F(ContentStoreTest, PutVerifiedRefusesMismatch) {
  auto st = store().put_verified("abc", sha256_of("abd"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  EXPECT_TRUE(store().list()->empty());
  EXPECT_TRUE(store().put_verified("abc", sha256_of("abc")));
  EXPECT_TRUE(store().has(sha256_of("abc")));
}

TEST_F(ContentStoreTest, VerifyDetectsTamperedBlob) {
  auto d = store().put("original");
  ASSERT_TRUE(d);
  std::ofstream(store().blob_path(*d), std::ios::trunc) << "tampered";
  auto st = store().verify(*d);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  EXPECT_NE(st.error().message.find(d->str()), std::string::npos);
  EXPECT_EQ(store().verify(sha256_of("missing")).error().kind, ErrorKind::not_found);
}

TEST_F(ContentStoreTest, InitRemovesStaleIngestButKeepsLiveWriters) {
  std::ofstream(ingest() / "crashed-download-abc") << "partial";
  fs::create_directory(ingest() / "crashed-dir");
  Digest d = sha256_of("live");
  auto live = store().writer(d);
  ASSERT_TRUE(live);
  ASSERT_TRUE(live->write("li"));
  ContentStore other(tmp_->path());  // as another process would at startup
  ASSERT_TRUE(other.init());
  EXPECT_EQ(ingest_files(), 1u);  // only the live writer's file
  EXPECT_FALSE(fs::exists(ingest() / "crashed-download-abc"));
  ASSERT_TRUE(live->write("ve"));
  ASSERT_TRUE(live->commit());
  EXPECT_TRUE(store().has(d));
}

}  // namespace
}  // namespace zl
