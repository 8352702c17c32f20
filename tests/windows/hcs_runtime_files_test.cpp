// Windows only (run under Wine): HcsRuntime's own files (the image index, container records)
// work on a host without HCS; what then needs HCS says so.
#include <gtest/gtest.h>

#include <fstream>

#include "runtime/windows/hcs_runtime.h"

namespace zl::win {
namespace {

class RuntimeFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("zl-hcs-files-" + random_guid().str());
    HcsConfig cfg;
    cfg.root = root_;
    auto rt = HcsRuntime::open(cfg);
    ASSERT_TRUE(rt) << rt.error().message;
    rt_ = std::move(*rt);
    ImageIndex idx;
    idx.put("app:1", {{layer_id_, (root_ / "layers" / layer_id_.str()).string()}});
    std::ofstream(root_ / "images.json") << idx.dump();
    fs::create_directories(root_ / "layers" / layer_id_.str());
  }
  void TearDown() override {
    rt_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path root_;
  Guid layer_id_ = random_guid();
  std::unique_ptr<HcsRuntime> rt_;
};

TEST_F(RuntimeFiles, TagListRemove) {
  ASSERT_TRUE(rt_->tag_image("app:1", "app:latest"));
  auto idx = rt_->images();
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->images().size(), 2u);
  EXPECT_EQ(idx->images().at("app:latest"), idx->images().at("app:1"));
  ASSERT_TRUE(rt_->remove_image("app:1"));
  EXPECT_EQ(rt_->images()->images().count("app:1"), 0u);
  EXPECT_EQ(rt_->remove_image("app:1").error().kind, ErrorKind::not_found);
  // Still named by app:latest: nothing to prune, so nothing needs HCS storage.
  auto pruned = rt_->prune_images();
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(*pruned, 0);
  // Unnamed: destroying the layer needs HCS storage.
  ASSERT_TRUE(rt_->remove_image("app:latest"));
  auto no_hcs = rt_->prune_images();
  ASSERT_FALSE(no_hcs);
  EXPECT_EQ(no_hcs.error().kind, ErrorKind::unavailable);
}

TEST_F(RuntimeFiles, RecordsListStateAndBlockImageRemoval) {
  ContainerRecord r;
  r.id = "web-0";
  r.image = "app:1";
  r.layers = rt_->images()->images().at("app:1");
  r.command = {"cmd", "/c", "exit 0"};
  std::ofstream(root_ / "containers" / "web-0.json") << r.to_json().dump();
  auto recs = rt_->list_records();
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0], r);
  EXPECT_EQ(rt_->state(r), "unknown");  // no HCS to ask
  EXPECT_EQ(rt_->remove_image("app:1").error().kind, ErrorKind::conflict);
  EXPECT_EQ(rt_->remove("web-0", true).error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(fs::exists(root_ / "containers" / "web-0.json"));  // nothing removed half-way
}

}  // namespace
}  // namespace zl::win
