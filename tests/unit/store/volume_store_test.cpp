// VolumeStore: docker's layout and names, idempotent create, removal refused while in use,
// prune of the unused, copy-up of image content, and concurrent changes under the store's lock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/volume_store.h"

namespace zl {
namespace {

using json = nlohmann::json;
using Users = std::map<std::string, std::vector<std::string>>;

VolumeStore::Usage uses(Users users) {
  return [users] { return Result<Users>(users); };
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string slurp(const fs::path& p) {
  auto t = read_file(p);
  return t ? *t : "<" + t.error().message + ">";
}

struct stat lstat_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st;
}

class VolumeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-volumes-test-");
    ASSERT_TRUE(dir) << dir.error().message;
    tmp_.emplace(std::move(*dir));
    store_.emplace(dir_());
  }
  fs::path dir_() const { return tmp_->path() / "volumes"; }
  // What is in the volumes directory besides the lock.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_(), ec))
      if (e.path().filename() != ".lock") out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::optional<TempDir> tmp_;
  std::optional<VolumeStore> store_;
};

TEST_F(VolumeStoreTest, CreateLaysOutDockersDirectoriesAndIsIdempotent) {
  auto v = store_->create("data", {.labels = {{"team", "db"}}});
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->name, "data");
  EXPECT_EQ(v->driver, "local");
  EXPECT_EQ(v->mountpoint, dir_() / "data" / "_data");
  EXPECT_GT(v->created_at, 0);
  EXPECT_FALSE(v->anonymous());
  EXPECT_TRUE(fs::is_directory(dir_() / "data" / "_data"));
  EXPECT_EQ(lstat_of(dir_() / "data" / "_data").st_mode & 07777, 0755u);
  json meta = json::parse(slurp(dir_() / "data" / "volume.json"));
  EXPECT_EQ(meta["name"], "data");
  EXPECT_EQ(meta["driver"], "local");
  EXPECT_EQ(meta["labels"], json({{"team", "db"}}));
  EXPECT_EQ(meta["options"], json::object());
  EXPECT_EQ(meta["created_at"], v->created_at);

  write(v->mountpoint / "kept", "x");
  auto again = store_->create("data", {.labels = {{"other", "1"}}});  // like docker: the existing one
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->created_at, v->created_at);
  EXPECT_EQ(again->labels, v->labels);
  EXPECT_EQ(slurp(v->mountpoint / "kept"), "x");

  auto got = store_->inspect("data");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->labels, (std::map<std::string, std::string>{{"team", "db"}}));
  EXPECT_EQ(store_->inspect("nope").error().kind, ErrorKind::not_found);
  EXPECT_EQ(entries(), std::vector<std::string>{"data"});
}

TEST_F(VolumeStoreTest, BadNamesAreRejectedAndCreateNothing) {
  for (std::string bad : std::vector<std::string>{"", "a", "-data", ".data", "_data", "a/b", "../x", "..",
                                                  "with space", "semi;colon", "x:y", std::string(129, 'a')}) {
    auto v = store_->create(bad);
    ASSERT_FALSE(v) << bad;
    EXPECT_EQ(v.error().kind, ErrorKind::invalid_argument) << bad;
    EXPECT_NE(v.error().message.find("invalid volume name"), std::string::npos) << v.error().message;
    EXPECT_FALSE(validate_volume_name(bad)) << bad;
    EXPECT_EQ(store_->inspect(bad).error().kind, ErrorKind::not_found) << bad;
  }
  EXPECT_EQ(entries(), std::vector<std::string>{});
  for (std::string good : std::vector<std::string>{"ab", "a.b", "A_b-c.1", "0data", std::string(128, 'z')})
    EXPECT_TRUE(validate_volume_name(good)) << good;
  std::string anon = new_volume_name();
  EXPECT_EQ(anon.size(), 64u);
  EXPECT_EQ(anon.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(validate_volume_name(anon));
  EXPECT_NE(anon, new_volume_name());
}

TEST_F(VolumeStoreTest, ListIsSortedByName) {
  auto empty = store_->list();
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->empty()) << "no volumes directory yet";
  for (const char* n : {"zeta", "alpha", "mid"}) ASSERT_TRUE(store_->create(n));
  auto list = store_->list();
  ASSERT_TRUE(list);
  std::vector<std::string> names;
  for (const auto& v : *list) names.push_back(v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
}

TEST_F(VolumeStoreTest, RemoveRefusesAVolumeInUseEvenWithForce) {
  ASSERT_TRUE(store_->create("busy"));
  write(dir_() / "busy" / "_data" / "file", "precious");
  for (bool force : {false, true}) {
    auto st = store_->remove("busy", force, uses({{"busy", {"web", "worker"}}}));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().kind, ErrorKind::conflict);
    EXPECT_EQ(st.error().message, "cannot remove volume busy: it is in use by containers web, worker");
  }
  EXPECT_EQ(slurp(dir_() / "busy" / "_data" / "file"), "precious");

  ASSERT_TRUE(store_->remove("busy", false, uses({{"other", {"web"}}})));
  EXPECT_EQ(entries(), std::vector<std::string>{}) << "nothing left behind";
  auto missing = store_->remove("busy", false, uses({}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_EQ(missing.error().message, "no such volume: busy");
  EXPECT_TRUE(store_->remove("busy", true, uses({}))) << "force: a missing volume is no error";
  EXPECT_EQ(store_->remove("../etc", false, uses({})).error().kind, ErrorKind::not_found);
}

TEST_F(VolumeStoreTest, UsageErrorsKeepTheVolume) {
  ASSERT_TRUE(store_->create("kept"));
  auto st = store_->remove("kept", true, [] { return Result<Users>(io("cannot read containers")); });
  ASSERT_FALSE(st);
  EXPECT_TRUE(store_->inspect("kept"));
}

TEST_F(VolumeStoreTest, PruneRemovesOnlyUnusedAndCountsTheirBytes) {
  for (const char* n : {"used", "old1", "old2"}) ASSERT_TRUE(store_->create(n));
  write(dir_() / "old1" / "_data" / "a", std::string(1000, 'a'));
  fs::create_directories(dir_() / "old2" / "_data" / "sub");
  write(dir_() / "old2" / "_data" / "sub" / "b", std::string(24, 'b'));
  auto report = store_->prune(uses({{"used", {"web"}}}));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->removed, (std::vector<std::string>{"old1", "old2"}));
  EXPECT_GE(report->bytes_freed, 1024u);
  EXPECT_LT(report->bytes_freed, 1024u + 4096u) << "data plus the small volume.json files";
  EXPECT_EQ(entries(), std::vector<std::string>{"used"});
  auto none = store_->prune(uses({{"used", {"web"}}}));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->removed.empty());
  EXPECT_EQ(none->bytes_freed, 0u);
}

TEST_F(VolumeStoreTest, LeftoversOfACrashGoUnderTheLock) {
  ASSERT_TRUE(store_->create("real"));
  fs::create_directories(dir_() / ".tmp-abc123" / "_data");
  fs::create_directories(dir_() / ".removing-gone" / "_data");
  auto list = store_->list();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u) << "half-made volumes are never listed";
  { ASSERT_TRUE(store_->lock()); }
  EXPECT_EQ(entries(), std::vector<std::string>{"real"});
}

TEST_F(VolumeStoreTest, ConcurrentCreatesAndRemovesStayConsistent) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      VolumeStore store(dir_());  // its own lock file handle, like another process
      for (int i = 0; i < 20; ++i) {
        if (!store.create("shared")) ++failures;
        std::string mine = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!store.create(mine)) ++failures;
        if (i % 2 == 0 && !store.remove(mine, false, uses({}))) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = store_->list();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 1u + 8 * 10);
  for (const auto& e : entries()) EXPECT_FALSE(e.starts_with(".")) << e;
}

// A directory tree as an image would have it, to copy up from.
class CopyUpTest : public VolumeStoreTest {
 protected:
  void SetUp() override {
    VolumeStoreTest::SetUp();
    rootfs_ = tmp_->path() / "rootfs";
    fs::path etc = rootfs_ / "etc";
    fs::create_directories(etc / "conf.d");
    write(etc / "passwd", "root:x:0:0::/root:/bin/sh\n");
    write(etc / "conf.d" / "app.conf", "key=value\n");
    write(etc / "secret", "s3cret");
    ASSERT_EQ(::chmod((etc / "secret").c_str(), 0600), 0);
    ASSERT_EQ(::chown((etc / "secret").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chmod((etc / "conf.d").c_str(), 0750), 0);
    ASSERT_EQ(::chown((etc / "conf.d").c_str(), 42, 43), 0);
    ASSERT_EQ(::chmod(etc.c_str(), 0751), 0);
    ASSERT_EQ(::chown(etc.c_str(), 7, 8), 0);
    fs::create_symlink("passwd", etc / "relative-link");
    fs::create_symlink("/etc/passwd", etc / "absolute-link");
    fs::create_hard_link(etc / "passwd", etc / "passwd-hardlink");
    ASSERT_EQ(::mkfifo((etc / "fifo").c_str(), 0640), 0);
    ASSERT_EQ(::setxattr((etc / "passwd").c_str(), "user.origin", "image", 5, 0), 0);
    timespec times[2] = {{1000000, 0}, {1000000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (etc / "passwd").c_str(), times, 0), 0);
    // A link inside the image leading to /etc (absolute, so resolved within the rootfs).
    fs::create_symlink("/etc", rootfs_ / "etc-link");
    // One leading out of the rootfs, which must not be followed to the host's.
    fs::create_symlink("../../../../../../../../../../../etc", rootfs_ / "escape");
  }

  Result<bool> copy_up(const std::string& volume, const std::string& path) {
    auto lock = store_->lock();
    if (!lock) return tl::unexpected(lock.error());
    return store_->copy_up_locked(volume, rootfs_, path);
  }

  fs::path rootfs_;
};

TEST_F(CopyUpTest, CopiesContentOwnersModesLinksAndXattrs) {
  ASSERT_TRUE(store_->create("etc"));
  auto copied = copy_up("etc", "/etc");
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_TRUE(*copied);
  fs::path d = dir_() / "etc" / "_data";
  EXPECT_EQ(slurp(d / "passwd"), "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(slurp(d / "conf.d" / "app.conf"), "key=value\n");
  auto secret = lstat_of(d / "secret");
  EXPECT_EQ(secret.st_mode & 07777, 0600u);
  EXPECT_EQ(secret.st_uid, 1234u);
  EXPECT_EQ(secret.st_gid, 5678u);
  auto confd = lstat_of(d / "conf.d");
  EXPECT_EQ(confd.st_mode & 07777, 0750u);
  EXPECT_EQ(confd.st_uid, 42u);
  auto top = lstat_of(d);
  EXPECT_EQ(top.st_mode & 07777, 0751u) << "the volume takes the image directory's mode";
  EXPECT_EQ(top.st_uid, 7u);
  EXPECT_EQ(top.st_gid, 8u);
  EXPECT_EQ(fs::read_symlink(d / "relative-link"), "passwd");
  EXPECT_EQ(fs::read_symlink(d / "absolute-link"), "/etc/passwd");
  EXPECT_EQ(lstat_of(d / "passwd").st_ino, lstat_of(d / "passwd-hardlink").st_ino);
  EXPECT_TRUE(S_ISFIFO(lstat_of(d / "fifo").st_mode));
  EXPECT_EQ(lstat_of(d / "fifo").st_mode & 07777, 0640u);
  EXPECT_EQ(lstat_of(d / "passwd").st_mtim.tv_sec, 1000000);
  char value[16] = {};
  ssize_t n = ::getxattr((d / "passwd").c_str(), "user.origin", value, sizeof value);
  EXPECT_EQ(std::string(value, n > 0 ? static_cast<size_t>(n) : 0), "image");
}

TEST_F(CopyUpTest, FollowsLinksInsideTheRootfsOnly) {
  ASSERT_TRUE(store_->create("via-link"));
  auto copied = copy_up("via-link", "/etc-link/");
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_TRUE(*copied);
  EXPECT_TRUE(fs::exists(dir_() / "via-link" / "_data" / "passwd"));

  ASSERT_TRUE(store_->create("escape"));
  auto escaped = copy_up("escape", "/escape");
  ASSERT_TRUE(escaped) << escaped.error().message;
  // ".." stops at the rootfs: this is the image's /etc, never the host's.
  EXPECT_EQ(slurp(dir_() / "escape" / "_data" / "passwd"), "root:x:0:0::/root:/bin/sh\n");
  EXPECT_FALSE(fs::exists(dir_() / "escape" / "_data" / "hostname"));
}

TEST_F(CopyUpTest, OnlyAnEmptyVolumeTakesContentAndMissingPathsCopyNothing) {
  ASSERT_TRUE(store_->create("used"));
  write(dir_() / "used" / "_data" / "mine", "keep");
  auto copied = copy_up("used", "/etc");
  ASSERT_TRUE(copied);
  EXPECT_FALSE(*copied);
  EXPECT_FALSE(fs::exists(dir_() / "used" / "_data" / "passwd"));

  ASSERT_TRUE(store_->create("fresh"));
  for (const char* path : {"/nonexistent", "/etc/passwd", "/etc/passwd/below"}) {
    auto none = copy_up("fresh", path);
    ASSERT_TRUE(none) << path << ": " << none.error().message;
    EXPECT_FALSE(*none) << path;
  }
  EXPECT_TRUE(fs::is_empty(dir_() / "fresh" / "_data"));
  EXPECT_EQ(lstat_of(dir_() / "fresh" / "_data").st_mode & 07777, 0755u);
}

TEST_F(CopyUpTest, AFailedCopyLeavesTheVolumeEmpty) {
  // Deep enough that the copy runs out of file descriptors under a low limit (each level holds
  // two), after it has made the first few levels.
  fs::path deep = rootfs_ / "deep";
  for (int i = 0; i < 40; ++i) deep /= "d" + std::to_string(i);
  fs::create_directories(deep);
  write(rootfs_ / "deep" / "top-file", "x");
  ASSERT_TRUE(store_->create("partial"));
  auto lock = store_->lock();
  ASSERT_TRUE(lock);

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest_free = ::dup(0);
  ::close(lowest_free);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest_free + 12);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto copied = store_->copy_up_locked("partial", rootfs_, "/deep");
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);

  ASSERT_FALSE(copied);
  EXPECT_NE(copied.error().message.find("volume partial"), std::string::npos) << copied.error().message;
  EXPECT_TRUE(fs::is_empty(dir_() / "partial" / "_data")) << "a later container copies again";
}

}  // namespace
}  // namespace zl
