// LayerStore: unpacked once into layers/sha256/<diff-id>, nothing committed on a bad diff-id
// or a hostile layer, safe when several unpack the same layer at once.
#include <gtest/gtest.h>

#include <thread>

#include "store/layer_store.h"
#include "unit/store/tar_builder.h"

namespace zl {
namespace {

using namespace zl::test;

class LayerStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-layers-test-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    store_.emplace(tmp_->path());
    ASSERT_TRUE(store_->init());
  }
  fs::path blob(const std::string& data) {
    fs::path p = tmp_->path() / fmt::format("blob{}", ++n_);
    EXPECT_TRUE(write_file_atomic(p, data));
    return p;
  }
  size_t entries_in(const fs::path& dir) const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename() != ".gate") ++n;
    return n;
  }
  fs::path layers() const { return tmp_->path() / "layers"; }

  std::optional<TempDir> tmp_;
  std::optional<LayerStore> store_;
  int n_ = 0;
};

TEST_F(LayerStoreTest, UnpacksOnceIntoItsDiffIdDir) {
  std::string tar = make_tar({file("etc/os-release", "ID=zlayer\n"), file("bin/tool", "12345", 0755)});
  Digest diff = sha256_of(tar);
  fs::path b = blob(compress(tar, Compression::zstd));
  ASSERT_TRUE(store_->ensure_unpacked(b, diff));
  EXPECT_TRUE(store_->has(diff));
  EXPECT_EQ(store_->layer_dir(diff), layers() / "sha256" / std::string(diff.hex()) / "fs");
  EXPECT_EQ(*read_file(store_->layer_dir(diff) / "etc/os-release"), "ID=zlayer\n");
  EXPECT_TRUE(fs::exists(layers() / "sha256" / std::string(diff.hex()) / "layer.json"));
  auto list = store_->list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].diff_id, diff);
  EXPECT_EQ((*list)[0].size, 15u);

  ASSERT_TRUE(write_file_atomic(store_->layer_dir(diff) / "marker", "m"));
  ASSERT_TRUE(store_->ensure_unpacked(b, diff));  // already there: not unpacked again
  EXPECT_TRUE(fs::exists(store_->layer_dir(diff) / "marker"));
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);
}

TEST_F(LayerStoreTest, DiffIdMismatchCommitsNothing) {
  std::string tar = make_tar({file("a", "a")});
  Digest wrong = sha256_of("not this layer");
  auto st = store_->ensure_unpacked(blob(compress(tar, Compression::gzip)), wrong);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  EXPECT_NE(st.error().message.find(wrong.str()), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(sha256_of(tar).str()), std::string::npos) << st.error().message;
  EXPECT_FALSE(store_->has(wrong));
  EXPECT_FALSE(store_->has(sha256_of(tar)));
  EXPECT_EQ(entries_in(layers() / "sha256"), 0u);
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);
}

TEST_F(LayerStoreTest, HostileLayerCommitsNothing) {
  std::string tar =
      make_tar({file("ok", "fine"), symlink("etc", "/etc"), file("etc/passwd", "root::0:0::/:")});
  auto st = store_->ensure_unpacked(blob(tar), sha256_of(tar));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(st.error().message.find("etc/passwd"), std::string::npos) << st.error().message;
  EXPECT_EQ(entries_in(layers() / "sha256"), 0u);
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);
}

TEST_F(LayerStoreTest, MissingBlobIsNotFound) {
  auto st = store_->ensure_unpacked(tmp_->path() / "nope", sha256_of("x"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
}

TEST_F(LayerStoreTest, ConcurrentUnpacksOfOneLayerAllSucceed) {
  std::vector<TarEntry> entries;
  for (int i = 0; i < 200; ++i)
    entries.push_back(file(fmt::format("d{}/f{}", i % 10, i), std::string(1000, 'a')));
  std::string tar = make_tar(entries);
  Digest diff = sha256_of(tar);
  fs::path gz = blob(compress(tar, Compression::gzip));
  fs::path zst = blob(compress(tar, Compression::zstd));  // same diff-id, different blob
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      LayerStore other(tmp_->path());
      auto st = other.ensure_unpacked(t % 2 ? gz : zst, diff);
      EXPECT_TRUE(st) << st.error().message;
      if (st) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 6);
  EXPECT_EQ(entries_in(layers() / "sha256"), 1u);
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);
  EXPECT_EQ(entries_in(store_->layer_dir(diff)), 10u);
}

TEST_F(LayerStoreTest, RemoveAndStaleWorkCleanup) {
  std::string tar = make_tar({file("a", "a")});
  Digest diff = sha256_of(tar);
  ASSERT_TRUE(store_->ensure_unpacked(blob(tar), diff));
  ASSERT_TRUE(store_->remove(diff));
  EXPECT_FALSE(store_->has(diff));
  EXPECT_EQ(store_->remove(diff).error().kind, ErrorKind::not_found);
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);

  fs::create_directories(layers() / "tmp" / "crashed-unpack" / "fs" / "etc");
  ASSERT_TRUE(LayerStore(tmp_->path()).init());
  EXPECT_EQ(entries_in(layers() / "tmp"), 0u);
}

}  // namespace
}  // namespace zl
