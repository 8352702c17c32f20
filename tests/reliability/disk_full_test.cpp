// Disk full: zlayer's root on a small tmpfs. A load that does not fit, a create whose layer does
// not fit and a container whose log cannot be written each fail with a clear error or carry on,
// leave nothing half-written (no blob, layer, ingest file or container directory), and all
// works again once space returns.
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <fstream>

#include "fixtures/container_cli.h"

namespace zl::testing {
namespace {

class DiskFull : public ContainerCliTest {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-diskfull-");
    ASSERT_TRUE(dir) << dir.error().message;
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    mnt_ = dir_->path() / "mnt";
    fs::create_directories(mnt_);
    ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=256k"), 0) << std::strerror(errno);
    root_ = mnt_ / "root";
  }
  void TearDown() override {
    resize("64m");  // room for the cleanup's own writes
    ContainerCliTest::TearDown();
    ::umount2(mnt_.c_str(), MNT_DETACH);
  }
  void resize(const std::string& size) {
    ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()), 0)
        << std::strerror(errno);
  }
  // Fills the disk but for `leave` bytes.
  void fill(uint64_t leave) {
    struct statvfs st {};
    ASSERT_EQ(::statvfs(mnt_.c_str(), &st), 0);
    uint64_t free = st.f_bavail * st.f_frsize;
    std::ofstream f(mnt_ / "filler", std::ios::binary);
    std::string block(4096, 'x');
    for (uint64_t n = 0; n + block.size() + leave <= free; n += block.size()) f.write(block.data(), block.size());
  }
  // Work in progress the store and the runtime keep: empty when nothing is half-written.
  std::vector<std::string> leftovers() const {
    std::vector<std::string> out;
    for (const char* d : {"ingest", "layers/tmp"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(root_ / d, ec))
        if (e.path().filename() != ".gate") out.push_back(e.path().string());
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "containers", ec))
      if (e.path().filename() != "names" && e.path().filename() != ".lock") out.push_back(e.path().string());
    return out;
  }
  static bool says_no_space(const SubprocessResult& r) {
    return r.err.find("No space left on device") != std::string::npos ||
           r.err.find("no space left on device") != std::string::npos;
  }
  void expect_verifies() {
    auto v = zlayer({"image", "verify"});
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }

  fs::path mnt_;
};

TEST_F(DiskFull, ALoadThatDoesNotFitLeavesNothingAndWorksOnceThereIsRoom) {
  auto l = zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"});
  EXPECT_NE(l.exit_code, 0);
  EXPECT_TRUE(says_no_space(l)) << l.err;
  std::printf("load on a full disk: %s", l.err.c_str());
  EXPECT_EQ(std::count(l.err.begin(), l.err.end(), '\n'), 1) << "one line: " << l.err;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  expect_verifies();
  EXPECT_EQ(zlayer({"images", "-q"}).out, "");

  resize("64m");
  auto again = zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto run = zlayer({"run", "--rm", "--network", "none", "busybox:1.0", "echo", "room again"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "room again\n");
  expect_verifies();
}

TEST_F(DiskFull, ACreateThatDoesNotFitLeavesNoContainerBehind) {
  resize("64m");
  ASSERT_EQ(zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"}).exit_code, 0);
  fill(0);
  auto c = zlayer({"create", "--name", "nospace", "--network", "none", "busybox:1.0", "true"});
  EXPECT_NE(c.exit_code, 0);
  EXPECT_TRUE(says_no_space(c)) << c.err;
  std::printf("create on a full disk: %s", c.err.c_str());
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
  EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");

  fs::remove(mnt_ / "filler");
  auto run = zlayer({"run", "--rm", "--name", "nospace", "--network", "none", "busybox:1.0", "echo", "made"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "made\n");
  expect_verifies();
}

TEST_F(DiskFull, AContainerWhoseLogCannotBeWrittenIsStillManagedAndLogsResume) {
  resize("64m");
  ASSERT_EQ(zlayer({"load", "-i", busybox_layout().string(), "--name", "busybox"}).exit_code, 0);
  auto d = zlayer({"run", "-d", "--name", "chatty", "--network", "none", "busybox:1.0", "sh", "-c",
                   "i=0; while :; do echo line $i; i=$((i+1)); usleep 2000; done"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  fill(0);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Its log cannot grow; zlayer still answers for it.
  auto ps = zlayer({"ps"});
  EXPECT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("chatty"), std::string::npos) << ps.out;
  auto tail = zlayer({"logs", "--tail", "1", "chatty"});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_TRUE(tail.out.starts_with("line ")) << tail.out;

  fs::remove(mnt_ / "filler");
  // Written again once there is room: a later line shows up.
  std::string last = tail.out;
  bool resumed = false;
  for (int i = 0; i < 50 && !resumed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto t = zlayer({"logs", "--tail", "1", "chatty"});
    resumed = t.exit_code == 0 && t.out != last && t.out.starts_with("line ");
  }
  EXPECT_TRUE(resumed) << "the log goes on after space returns";
  auto rm = zlayer({"rm", "-f", "chatty"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(leftovers(), std::vector<std::string>{});
}

}  // namespace
}  // namespace zl::testing
