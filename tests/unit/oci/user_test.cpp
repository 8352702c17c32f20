// User resolution through the image's /etc/passwd and /etc/group, read inside the rootfs.
#include <gtest/gtest.h>

#include "oci/user.h"
#include "unit/oci/oci_test_util.h"

namespace zl {
namespace {

using test::TestRootfs;
using Gids = std::vector<uint32_t>;

TEST(User, EmptyIsRootWithItsHome) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/root");
  EXPECT_EQ(u->additional_gids, Gids{0});
}

TEST(User, NameGetsPasswdIdsHomeAndGroupMemberships) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "app");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->additional_gids, (Gids{1000, 1, 29}));  // primary, then daemon and audio
}

TEST(User, UidFindsTheSameEntry) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "1000");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->home, "/home/app");
  EXPECT_EQ(u->additional_gids, (Gids{1000, 1, 29}));
}

TEST(User, ExplicitGroupByNameOrNumberAndNoSupplementaryGroups) {
  TestRootfs root;
  auto by_name = resolve_user(root.path(), "app:staff");
  ASSERT_TRUE(by_name) << by_name.error().message;
  EXPECT_EQ(by_name->uid, 1000u);
  EXPECT_EQ(by_name->gid, 50u);
  EXPECT_EQ(by_name->additional_gids, Gids{50});

  auto numeric = resolve_user(root.path(), "1000:4321");  // a gid without a group entry is fine
  ASSERT_TRUE(numeric) << numeric.error().message;
  EXPECT_EQ(numeric->gid, 4321u);
  EXPECT_EQ(numeric->additional_gids, Gids{4321});
}

TEST(User, UnknownUidDefaultsToGidZeroAndSlash) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "4242");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->home, "/");
}

TEST(User, EntryWithoutHomeGetsSlash) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "nohome");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->home, "/");
  EXPECT_EQ(u->additional_gids, (Gids{1001, 29, 44}));
}

TEST(User, UnknownNamesAreRefused) {
  TestRootfs root;
  auto u = resolve_user(root.path(), "nobody-here");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(u.error().message, "user \"nobody-here\" not found in the image's /etc/passwd");

  auto g = resolve_user(root.path(), "app:nogroup");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message, "group \"nogroup\" not found in the image's /etc/group");
}

TEST(User, MissingFilesAreFineForNumericIds) {
  TestRootfs root(/*with_etc=*/false);
  auto u = resolve_user(root.path(), "123:456");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 123u);
  EXPECT_EQ(u->gid, 456u);
  EXPECT_EQ(u->home, "/");
  auto r = resolve_user(root.path(), "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->uid, 0u);

  auto named = resolve_user(root.path(), "app");
  ASSERT_FALSE(named);
  EXPECT_EQ(named.error().kind, ErrorKind::invalid_argument);
}

TEST(User, MalformedUserStrings) {
  TestRootfs root;
  for (const char* bad : {":", "app:", ":50", "99999999999"}) {
    auto u = resolve_user(root.path(), bad);
    ASSERT_FALSE(u) << bad;
    EXPECT_EQ(u.error().kind, ErrorKind::invalid_argument) << bad;
  }
}

// An image whose /etc/passwd is an absolute symlink must not make us read the host's file.
TEST(User, SymlinksResolveInsideTheRootfs) {
  TestRootfs root(/*with_etc=*/false);
  fs::path outside = root.base() / "host-passwd";
  ASSERT_TRUE(write_file_atomic(outside, "evil:x:0:0::/evil:/bin/sh\n"));
  root.write("real/passwd", "inside:x:7:7::/inside:/bin/sh\n");
  fs::create_directories(root.path() / "etc");
  fs::create_symlink("/real/passwd", root.path() / "etc/passwd");  // absolute: means rootfs/real/passwd
  auto u = resolve_user(root.path(), "inside");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->uid, 7u);

  fs::remove(root.path() / "etc/passwd");
  fs::create_symlink("../../../../../../../.." + outside.string(), root.path() / "etc/passwd");
  auto evil = resolve_user(root.path(), "evil");
  ASSERT_FALSE(evil);  // ".." stops at the rootfs, so the host file is never found
  EXPECT_EQ(evil.error().kind, ErrorKind::invalid_argument);
}

TEST(User, NonRegularPasswdIsRefused) {
  TestRootfs root(/*with_etc=*/false);
  fs::create_directories(root.path() / "etc/passwd");
  auto u = resolve_user(root.path(), "app");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message.find("not a regular file"), std::string::npos) << u.error().message;
}

}  // namespace
}  // namespace zl
