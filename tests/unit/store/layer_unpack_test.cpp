// The unpack engine: metadata preserved, whiteouts converted, diff-id computed for every
// compression, broken input refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "store/layer_unpack.h"
#include "unit/store/tar_builder.h"

namespace zl {
namespace {

using namespace zl::test;

std::string get_xattr(const fs::path& p, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(p.c_str(), name, buf, sizeof buf);
  return n < 0 ? std::string("<missing>") : std::string(buf, static_cast<size_t>(n));
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

// A valid VFS_CAP_REVISION_2 security.capability value granting CAP_NET_RAW (effective).
std::string net_raw_capability() {
  uint32_t words[5] = {0x02000001, 1u << 13, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(words), sizeof words);
}

class LayerUnpackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-unpack-test-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
  }
  // Writes the blob, unpacks it into a fresh directory and returns the result.
  Result<UnpackStats> unpack(const std::string& blob) {
    fs::path blob_path = tmp_->path() / fmt::format("blob{}", ++n_);
    dest_ = tmp_->path() / fmt::format("dest{}", n_);
    EXPECT_TRUE(write_file_atomic(blob_path, blob));
    fs::create_directory(dest_);
    return unpack_layer(blob_path, dest_);
  }

  std::optional<TempDir> tmp_;
  fs::path dest_;
  int n_ = 0;
};

TEST_F(LayerUnpackTest, PreservesModesOwnersTimesXattrsAndLinks) {
  TarEntry su = file("bin/su", "suid", 04755);
  TarEntry sg = file("bin/sg", "sgid", 02750);
  sg.uid = 1000;
  sg.gid = 2000;
  TarEntry ping = file("bin/ping", "ping");
  ping.xattrs = {{"user.note", "hello"}, {"security.capability", net_raw_capability()}, {"trusted.zl", "t"}};
  TarEntry bin = dir("bin", 0750);
  bin.mtime = 1600000000;
  TarEntry sh = symlink("bin/sh", "/bin/busybox");
  sh.uid = 1000;
  sh.gid = 1000;
  TarEntry old = file("etc/conf", "v1");
  TarEntry conf = file("etc/conf", "v2", 0600);
  conf.mtime = 1500000000;
  std::string tar = make_tar({bin, su, sg, ping, hardlink("bin/su-link", "bin/su"), sh, dir("tmp", 01777),
                              symlink("lib", "usr/lib"), dir("usr/lib"), old, conf,
                              device("dev/null", AE_IFCHR, 1, 3), device("dev/loop0", AE_IFBLK, 7, 0),
                              fifo("run/fifo"), file("usr/share/ca/Főtanúsítvány.crt", "pem")});
  auto stats = unpack(tar);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->diff_id, sha256_of(tar));
  EXPECT_EQ(stats->entries, 15u);
  EXPECT_EQ(stats->size, 4u + 4 + 4 + 2 + 2 + 3);

  EXPECT_EQ(lstat_of(dest_ / "bin/su").st_mode & 07777, 04755u);
  auto sgs = lstat_of(dest_ / "bin/sg");
  EXPECT_EQ(sgs.st_mode & 07777, 02750u);
  EXPECT_EQ(sgs.st_uid, 1000u);
  EXPECT_EQ(sgs.st_gid, 2000u);
  EXPECT_EQ(lstat_of(dest_ / "tmp").st_mode & 07777, 01777u);
  auto bins = lstat_of(dest_ / "bin");
  EXPECT_EQ(bins.st_mode & 07777, 0750u);
  EXPECT_EQ(bins.st_mtim.tv_sec, 1600000000);  // kept although children were created later
  EXPECT_EQ(lstat_of(dest_ / "bin/su").st_mtim.tv_sec, 1700000000);

  EXPECT_EQ(get_xattr(dest_ / "bin/ping", "user.note"), "hello");
  EXPECT_EQ(get_xattr(dest_ / "bin/ping", "security.capability"), net_raw_capability());
  EXPECT_EQ(get_xattr(dest_ / "bin/ping", "trusted.zl"), "t");

  EXPECT_EQ(lstat_of(dest_ / "bin/su-link").st_ino, lstat_of(dest_ / "bin/su").st_ino);
  EXPECT_EQ(lstat_of(dest_ / "bin/su").st_nlink, 2u);

  EXPECT_EQ(fs::read_symlink(dest_ / "bin/sh"), "/bin/busybox");
  EXPECT_EQ(lstat_of(dest_ / "bin/sh").st_uid, 1000u);
  EXPECT_EQ(fs::read_symlink(dest_ / "lib"), "usr/lib");

  EXPECT_EQ(*read_file(dest_ / "etc/conf"), "v2");  // a later entry replaces an earlier one
  EXPECT_EQ(lstat_of(dest_ / "etc/conf").st_mode & 07777, 0600u);
  EXPECT_EQ(lstat_of(dest_ / "etc/conf").st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(lstat_of(dest_ / "etc").st_mode & 07777, 0755u);  // implicit parent

  auto null = lstat_of(dest_ / "dev/null");
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(null.st_rdev, makedev(1, 3));
  EXPECT_EQ(null.st_mode & 07777, 0666u);
  auto loop = lstat_of(dest_ / "dev/loop0");
  EXPECT_TRUE(S_ISBLK(loop.st_mode));
  EXPECT_EQ(loop.st_rdev, makedev(7, 0));
  EXPECT_TRUE(S_ISFIFO(lstat_of(dest_ / "run/fifo").st_mode));
  EXPECT_EQ(*read_file(dest_ / "usr/share/ca/Főtanúsítvány.crt"), "pem");
}

TEST_F(LayerUnpackTest, SameDiffIdForEveryCompression) {
  std::string tar =
      make_tar({dir("etc"), file("etc/hostname", "zlayer\n"), file("big", std::string(3 << 20, 'z'))});
  for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
    auto stats = unpack(compress(tar, c));
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(stats->diff_id, sha256_of(tar));
    EXPECT_EQ(*read_file(dest_ / "etc/hostname"), "zlayer\n");
    EXPECT_EQ(fs::file_size(dest_ / "big"), 3u << 20);
  }
}

TEST_F(LayerUnpackTest, WhiteoutsBecomeOverlayWhiteouts) {
  TarEntry whiteout = file("a/.wh.gone", "");
  std::string tar = make_tar({dir("a"), whiteout, dir("b"), file("b/.wh..wh..opq", ""), file("b/kept", "k"),
                              file(".wh.top", ""), file("c/.wh..wh..opq", ""), file(".wh..wh.plnk/123", "x"),
                              file("a/.wh..wh.aufs", "")});
  auto stats = unpack(compress(tar, Compression::gzip));
  ASSERT_TRUE(stats) << stats.error().message;
  for (const char* name : {"a/gone", "top"}) {
    auto st = lstat_of(dest_ / name);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << name;
    EXPECT_EQ(st.st_rdev, makedev(0, 0)) << name;
  }
  EXPECT_EQ(get_xattr(dest_ / "b", "trusted.overlay.opaque"), "y");
  EXPECT_EQ(get_xattr(dest_ / "c", "trusted.overlay.opaque"), "y");  // directory made for the marker
  EXPECT_EQ(get_xattr(dest_ / "a", "trusted.overlay.opaque"), "<missing>");
  EXPECT_EQ(*read_file(dest_ / "b/kept"), "k");
  for (const char* name : {"a/.wh.gone", "b/.wh..wh..opq", ".wh.top", ".wh..wh.plnk", "a/.wh..wh.aufs"})
    EXPECT_FALSE(fs::exists(fs::symlink_status(dest_ / name))) << name;
}

TEST_F(LayerUnpackTest, OverlayXattrsFromTheArchiveAreDropped) {
  TarEntry d = dir("d");
  d.xattrs = {{"trusted.overlay.redirect", "/etc"}, {"trusted.overlay.opaque", "y"}, {"user.ok", "1"}};
  auto stats = unpack(make_tar({d}));
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(get_xattr(dest_ / "d", "trusted.overlay.redirect"), "<missing>");
  EXPECT_EQ(get_xattr(dest_ / "d", "trusted.overlay.opaque"), "<missing>");
  EXPECT_EQ(get_xattr(dest_ / "d", "user.ok"), "1");
}

TEST_F(LayerUnpackTest, RootEntryAppliesToTheLayerRoot) {
  TarEntry root = dir("./", 0700);
  root.mtime = 1234567890;
  auto stats = unpack(make_tar({root, file("./a", "a")}));
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(lstat_of(dest_).st_mode & 07777, 0700u);
  EXPECT_EQ(lstat_of(dest_).st_mtim.tv_sec, 1234567890);
  EXPECT_EQ(*read_file(dest_ / "a"), "a");
}

TEST_F(LayerUnpackTest, TruncatedCompressionIsCorrupt) {
  std::string tar = make_tar({file("f", std::string(1 << 20, 'q'))});
  for (auto c : {Compression::gzip, Compression::zstd}) {
    std::string blob = compress(tar, c);
    blob.resize(blob.size() / 2);
    auto stats = unpack(blob);
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().kind, ErrorKind::corrupt) << stats.error().message;
  }
}

TEST_F(LayerUnpackTest, NotATarIsInvalid) {
  auto stats = unpack(compress(std::string(4096, '\x42'), Compression::gzip));
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().kind, ErrorKind::invalid_argument) << stats.error().message;
}

}  // namespace
}  // namespace zl
