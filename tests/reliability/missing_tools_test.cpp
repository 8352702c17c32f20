// The tools under zlayer missing or failing: no conmon, no OCI runtime, an OCI runtime that
// fails. Each gives one clear line naming what is wrong, and leaves no container behind.
#include <unistd.h>

#include <fstream>

#include "fixtures/container_cli.h"

namespace zl::testing {
namespace {

class MissingTools : public ContainerCliTest {
 protected:
  // A PATH with every program of the system's but `without`, and `fakes` (name -> shell script).
  fs::path make_path(const std::set<std::string>& without, const std::map<std::string, std::string>& fakes = {}) {
    fs::path bin = dir_->path() / fmt::format("bin{}", paths_++);
    fs::create_directories(bin);
    for (const char* d : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(d, ec)) {
        std::string name = e.path().filename().string();
        if (without.count(name) || fakes.count(name) || fs::exists(fs::symlink_status(bin / name))) continue;
        fs::create_symlink(e.path(), bin / name, ec);
      }
    }
    for (const auto& [name, script] : fakes) {
      std::ofstream(bin / name) << "#!/bin/sh\n" << script << "\n";
      fs::permissions(bin / name, fs::perms::owner_all);
    }
    return bin;
  }
  SubprocessResult zlayer_with_path(const fs::path& bin, const std::vector<std::string>& args) {
    SubprocessOptions o;
    o.timeout = std::chrono::seconds(60);
    o.env = std::vector<std::string>{"PATH=" + bin.string(), "HOME=/root"};
    auto r = run_process(argv(args), o);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : SubprocessResult{};
  }
  void expect_nothing_left() {
    EXPECT_EQ(zlayer({"ps", "-a", "-q"}).out, "");
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_ / "containers", ec))
      EXPECT_TRUE(e.path().filename() == "names" || e.path().filename() == ".lock") << e.path();
  }
  int paths_ = 0;
};

TEST_F(MissingTools, NoConmon) {
  auto r = zlayer_with_path(make_path({"conmon"}), {"run", "--rm", "--network", "none", "busybox:1.0", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("conmon is not installed"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_nothing_left();
}

TEST_F(MissingTools, NoOciRuntime) {
  auto r = zlayer_with_path(make_path({"runc", "crun"}), {"run", "--rm", "--network", "none", "busybox:1.0", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("runc"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not installed"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_nothing_left();
}

TEST_F(MissingTools, AnOciRuntimeThatFails) {
  auto bin = make_path({"crun"}, {{"runc", "echo 'simulated runc failure' >&2; exit 1"}});
  auto r = zlayer_with_path(bin, {"run", "--rm", "--network", "none", "busybox:1.0", "true"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("simulated runc failure"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  expect_nothing_left();
  // With the real tools back, the same root works (no verdict of the fake kept).
  auto ok = zlayer({"run", "--rm", "--network", "none", "busybox:1.0", "echo", "fine"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "fine\n");
}

// The CRI server is a module beside the binary (zlayer-cri.so): a daemon asked to serve CRI
// without it says so and stops; every other command works without it.
TEST_F(MissingTools, NoCriModule) {
  fs::path solo = dir_->path() / "solo";
  fs::create_directories(solo);
  std::error_code ec;
  fs::create_hard_link(ZLAYER_BINARY, solo / "zlayer", ec);
  if (ec) fs::copy_file(ZLAYER_BINARY, solo / "zlayer");
  ASSERT_FALSE(fs::exists(solo / "zlayer-cri.so"));
  SubprocessOptions o;
  o.timeout = std::chrono::seconds(60);
  auto r = run_process({(solo / "zlayer").string(), "--root", root_.string(), "daemon", "--cri-socket",
                        (dir_->path() / "cri.sock").string()},
                       o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->err.find("zlayer-cri.so is missing"), std::string::npos) << r->err;
  auto ok = run_process({(solo / "zlayer").string(), "--root", root_.string(), "run", "--rm", "--network", "none",
                         "busybox:1.0", "echo", "fine"},
                        o);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->out, "fine\n") << ok->err;
}

}  // namespace
}  // namespace zl::testing
