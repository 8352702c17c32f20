#include "agent/state_db.h"

#include <gtest/gtest.h>

#include "common/fs.h"

namespace zl {
namespace {

const std::pair<std::string, int64_t> kWeb0{"web", 0};

class StateDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create(std::filesystem::temp_directory_path(), "zl-statedb-");
    ASSERT_TRUE(d);
    dir_ = std::make_unique<TempDir>(std::move(*d));
  }
  std::filesystem::path file() const { return dir_->path() / "agent" / "state.db"; }
  std::unique_ptr<TempDir> dir_;
};

TEST_F(StateDbTest, KeepsDeploymentsAcrossReopenAndBumpsGenerations) {
  {
    auto db = StateDb::open(file());
    ASSERT_TRUE(db) << db.error().message;
    auto a = (*db)->put_deployment("shop", "shop.zlayer.yml", "version: v1\n");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->generation, 1);
    ASSERT_TRUE((*db)->set_scale("shop", "web", 4));
    ASSERT_TRUE((*db)->record_restart("shop", "web", 0, "exited with code 3"));
    ASSERT_TRUE((*db)->record_restart("shop", "web", 0, "exited with code 4"));
  }
  auto db = StateDb::open(file());
  ASSERT_TRUE(db);
  auto all = (*db)->deployments();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].spec_yaml, "version: v1\n");
  EXPECT_EQ((*(*db)->scale_overrides("shop"))["web"], 4);
  auto counters = (*db)->counters("shop");
  ASSERT_TRUE(counters);
  EXPECT_EQ((*counters).at(kWeb0).restarts, 2);
  EXPECT_EQ((*counters).at(kWeb0).last_error, "exited with code 4");
  // A new apply: generation 2, hand-made scale dropped, counters kept.
  auto b = (*db)->put_deployment("shop", "shop.zlayer.yml", "version: v1\n# changed\n");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->generation, 2);
  EXPECT_TRUE((*db)->scale_overrides("shop")->empty());
  EXPECT_EQ((*(*db)->counters("shop")).at(kWeb0).restarts, 2);
}

TEST_F(StateDbTest, DeletingADeploymentDropsItsScaleAndCounters) {
  auto db = StateDb::open(file());
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->put_deployment("a", "a.yml", "x"));
  ASSERT_TRUE((*db)->set_scale("a", "s", 2));
  ASSERT_TRUE((*db)->record_restart("a", "s", 1, "boom"));
  EXPECT_TRUE(*(*db)->delete_deployment("a"));
  EXPECT_FALSE(*(*db)->delete_deployment("a"));
  EXPECT_TRUE((*db)->scale_overrides("a")->empty());
  EXPECT_TRUE((*db)->counters("a")->empty());
  EXPECT_FALSE(*(*db)->deployment("a"));
}

TEST_F(StateDbTest, ScaleOfAnUnknownDeploymentIsRefused) {
  auto db = StateDb::open(file());
  ASSERT_TRUE(db);
  auto st = (*db)->set_scale("ghost", "s", 1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);  // foreign key
}

TEST_F(StateDbTest, RefusesAStateWrittenByANewerSchema) {
  ASSERT_TRUE(make_dirs(file().parent_path(), 0700));
  {
    auto db = SqliteDb::open(file());
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA user_version = 9"));
  }
  auto db = StateDb::open(file());
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("newer zlayer"), std::string::npos) << db.error().message;
}

}  // namespace
}  // namespace zl
