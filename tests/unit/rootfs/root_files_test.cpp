#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>

#include "rootfs/root_files.h"

namespace zl {
namespace {

class RootFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create(fs::temp_directory_path(), "zl-rootfiles-");
    ASSERT_TRUE(d);
    dir_ = std::make_unique<TempDir>(std::move(*d));
    root_ = dir_->path() / "root";
    outside_ = dir_->path() / "outside";
    fs::create_directories(root_ / "etc");
    fs::create_directories(outside_);
    std::ofstream(root_ / "etc" / "hostname") << "ctr\n";
    std::ofstream(outside_ / "secret") << "host\n";
    fs::create_symlink("/etc", root_ / "abs");                        // absolute: inside the root
    fs::create_symlink("../../../../../../etc", root_ / "climb");    // climbs: stops at the root
    fs::create_symlink(outside_, root_ / "out");                      // names the host's directory
    fd_ = UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  std::unique_ptr<TempDir> dir_;
  fs::path root_, outside_;
  UniqueFd fd_;
};

TEST_F(RootFiles, StatResolvesSymlinksInsideTheRoot) {
  auto link = stat_in_root(fd_.get(), "/abs");
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_TRUE(S_ISLNK(link->mode));
  EXPECT_EQ(link->link_target, "/etc");
  auto through = stat_in_root(fd_.get(), "/climb/hostname");
  ASSERT_TRUE(through) << through.error().message;
  EXPECT_EQ(through->name, "hostname");
  EXPECT_EQ(through->size, 4);
  auto dot = stat_in_root(fd_.get(), "/abs/.");
  ASSERT_TRUE(dot);
  EXPECT_TRUE(S_ISDIR(dot->mode));
  EXPECT_EQ(dot->name, ".");
  auto escape = stat_in_root(fd_.get(), "/out/secret");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().kind, ErrorKind::not_found);
}

TEST_F(RootFiles, ExtractionStaysBelowItsDirectory) {
  // A tar holding "x" (a file): extracted through a symlink to the host, it must not land there.
  std::string tar;
  ASSERT_TRUE(tar_from_root(fd_.get(), "/etc/hostname", [&](std::string_view d) -> Status {
    tar.append(d);
    return {};
  }));
  auto source = [&tar, pos = size_t{0}](char* buf, size_t n) mutable -> Result<size_t> {
    size_t k = std::min(n, tar.size() - pos);
    std::copy_n(tar.data() + pos, k, buf);
    pos += k;
    return k;
  };
  EXPECT_FALSE(extract_to_root(fd_.get(), "/out", source, {}));
  EXPECT_FALSE(fs::exists(outside_ / "hostname"));
  auto into = extract_to_root(fd_.get(), "/climb", source, {});  // = /etc: fine, same file again
  EXPECT_TRUE(into) << into.error().message;
}

}  // namespace
}  // namespace zl
