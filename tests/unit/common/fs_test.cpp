#include <gtest/gtest.h>

#include "common/fs.h"

namespace zl {
namespace {

TEST(WriteFileAtomic, ReplacesContentAndLeavesNoTempFile) {
  auto dir = TempDir::create(fs::temp_directory_path(), "zl-fs-test-");
  ASSERT_TRUE(dir) << dir.error().message;
  auto p = dir->path() / "state.json";
  ASSERT_TRUE(write_file_atomic(p, "one"));
  ASSERT_TRUE(write_file_atomic(p, "two", 0600));
  EXPECT_EQ(*read_file(p), "two");
  EXPECT_EQ(fs::status(p).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir->path())) (void)e, ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(TempDir, RemovedUnlessCommitted) {
  fs::path kept, dropped;
  auto base = TempDir::create(fs::temp_directory_path(), "zl-fs-test-");
  ASSERT_TRUE(base);
  {
    auto t = TempDir::create(base->path());
    ASSERT_TRUE(t);
    dropped = t->path();
  }
  EXPECT_FALSE(fs::exists(dropped));
  {
    auto t = TempDir::create(base->path());
    ASSERT_TRUE(t);
    ASSERT_TRUE(t->commit_as(base->path() / "final"));
  }
  EXPECT_TRUE(fs::is_directory(base->path() / "final"));
}

TEST(ReadFile, MissingFileIsNotFound) {
  auto r = read_file("/nonexistent/zlayer/file");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::not_found);
  EXPECT_NE(r.error().message.find("/nonexistent/zlayer/file"), std::string::npos);
}

}  // namespace
}  // namespace zl
