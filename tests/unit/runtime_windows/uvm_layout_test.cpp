// Utility VM preparation on a temp dir: the layout, the grants, and rollback of everything when
// any one step fails (a failure injected at each step in turn).
#include "runtime/windows/portable/uvm_layout.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <vector>

namespace zl::win {
namespace {

class TempRoot {
 public:
  TempRoot() {
    path_ = fs::temp_directory_path() / ("zl-uvm-test-" + random_guid().str());
    fs::create_directories(path_);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Real filesystem, recorded grants, and a failure at the n-th failable call (0 = none).
class FailingOps : public LocalUvmFileOps {
 public:
  FailingOps()
      : LocalUvmFileOps([this](const Guid& vm, const fs::path& p) -> Status {
          grants.push_back({vm, p});
          return {};
        }) {}
  int fail_at = 0, calls = 0;
  std::vector<std::pair<Guid, fs::path>> grants;

  Status create_directory(const fs::path& p) override {
    return maybe([&] { return LocalUvmFileOps::create_directory(p); });
  }
  Status copy_file(const fs::path& a, const fs::path& b) override {
    return maybe([&] { return LocalUvmFileOps::copy_file(a, b); });
  }
  Status remove_file(const fs::path& p) override {
    return maybe([&] { return LocalUvmFileOps::remove_file(p); });
  }
  Status grant_vm_access(const Guid& vm, const fs::path& p) override {
    return maybe([&] { return LocalUvmFileOps::grant_vm_access(vm, p); });
  }
  // Cleanup (remove_all) never fails here: rollback itself is what is under test.

 private:
  template <class F>
  Status maybe(F real) {
    if (rolling_back_) return real();
    if (++calls == fail_at) {
      rolling_back_ = true;  // the rest are rollback's own calls
      return io("injected failure at step {}", calls);
    }
    return real();
  }
  bool rolling_back_ = false;
};

struct Fixture {
  TempRoot tmp;
  fs::path root = tmp.path() / "state";
  UvmBootFiles boot = UvmBootFiles::in_layer(tmp.path() / "layer");
  Guid vm = random_guid();
  Fixture() {
    fs::create_directories(root);
    fs::create_directories(boot.os_files_dir);
    std::ofstream(boot.system_template_vhdx) << "PRETEND VHDX";
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(UvmLayout, PathsUnderUvmsAndRefusesNonNames) {
  auto p = uvm_paths("root", "web-0");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->dir, fs::path("root") / "uvms" / "web-0");
  EXPECT_EQ(p->sandbox_vhdx, p->dir / "sandbox.vhdx");
  EXPECT_EQ(p->debug_dir, p->dir / "debug");
  EXPECT_EQ(p->crash_dir, p->dir / "crash");
  for (const char* bad : {"", ".", "..", "a/b", "a\\b", "c:x"}) EXPECT_FALSE(uvm_paths("root", bad)) << bad;
  auto boot = UvmBootFiles::in_layer("L");
  EXPECT_EQ(boot.os_files_dir, fs::path("L") / "UtilityVM" / "Files");
  EXPECT_EQ(boot.system_template_vhdx, fs::path("L") / "UtilityVM" / "SystemTemplate.vhdx");
}

TEST(UvmLayout, PreparesCopiesGrantsAndCleansUp) {
  Fixture f;
  FailingOps ops;
  auto uvm = Uvm::prepare(ops, f.root, "web-0", f.boot, f.vm, false);
  ASSERT_TRUE(uvm) << uvm.error().message;
  const auto& p = uvm->paths();
  EXPECT_EQ(read(p.sandbox_vhdx), "PRETEND VHDX");
  EXPECT_TRUE(fs::is_directory(p.debug_dir));
  EXPECT_TRUE(fs::is_directory(p.crash_dir));
  EXPECT_NE(p.debug_dir, p.crash_dir);
  ASSERT_EQ(ops.grants.size(), 5u);
  std::vector<fs::path> granted;
  for (auto& [vm, path] : ops.grants) {
    EXPECT_EQ(vm, f.vm);
    granted.push_back(path);
  }
  EXPECT_EQ(granted, (std::vector<fs::path>{p.sandbox_vhdx, f.boot.os_files_dir, f.boot.system_template_vhdx,
                                            p.debug_dir, p.crash_dir}));
  ASSERT_TRUE(uvm->cleanup());
  EXPECT_FALSE(fs::exists(p.dir));
  EXPECT_TRUE(fs::exists(f.boot.system_template_vhdx));  // the image's files are never touched
  EXPECT_TRUE(fs::exists(f.boot.os_files_dir));
}

TEST(UvmLayout, DestroyedUnreleasedRemovesReleasedKeeps) {
  Fixture f;
  FailingOps ops;
  fs::path dir;
  {
    auto uvm = Uvm::prepare(ops, f.root, "a", f.boot, f.vm, false);
    ASSERT_TRUE(uvm);
    dir = uvm->paths().dir;
  }
  EXPECT_FALSE(fs::exists(dir));
  {
    auto uvm = Uvm::prepare(ops, f.root, "b", f.boot, f.vm, false);
    ASSERT_TRUE(uvm);
    dir = uvm->paths().dir;
    uvm->release();
  }
  EXPECT_TRUE(fs::exists(dir / "sandbox.vhdx"));
  ASSERT_TRUE(remove_uvm_dir(ops, f.root, "b"));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(UvmLayout, FailureAtEachStepRollsEverythingBack) {
  // mkdir uvms, mkdir <id>, mkdir debug, mkdir crash, copy, 5 grants.
  constexpr int kSteps = 10;
  for (int step = 1; step <= kSteps; ++step) {
    Fixture f;
    FailingOps ops;
    ops.fail_at = step;
    auto uvm = Uvm::prepare(ops, f.root, "web-0", f.boot, f.vm, false);
    ASSERT_FALSE(uvm) << "step " << step;
    EXPECT_EQ(uvm.error().kind, ErrorKind::io);
    EXPECT_NE(uvm.error().message.find("prepare utility VM of web-0"), std::string::npos)
        << uvm.error().message;
    EXPECT_NE(uvm.error().message.find("injected failure at step " + std::to_string(step)),
              std::string::npos);
    EXPECT_FALSE(fs::exists(f.root / "uvms" / "web-0")) << "left behind after a failure at step " << step;
    EXPECT_TRUE(fs::exists(f.boot.system_template_vhdx));
  }
  // One more step than there are: it succeeds, so the count above is every step.
  Fixture f;
  FailingOps ops;
  ops.fail_at = kSteps + 1;
  EXPECT_TRUE(Uvm::prepare(ops, f.root, "web-0", f.boot, f.vm, false));
}

TEST(UvmLayout, KeepOnFailureLeavesEverythingForInspection) {
  Fixture f;
  FailingOps ops;
  ops.fail_at = 10;  // the last grant
  auto uvm = Uvm::prepare(ops, f.root, "web-0", f.boot, f.vm, /*keep_on_failure=*/true);
  ASSERT_FALSE(uvm);
  EXPECT_EQ(read(f.root / "uvms" / "web-0" / "sandbox.vhdx"), "PRETEND VHDX");
  EXPECT_TRUE(fs::is_directory(f.root / "uvms" / "web-0" / "debug"));
  EXPECT_TRUE(fs::is_directory(f.root / "uvms" / "web-0" / "crash"));
}

TEST(UvmLayout, StaleSandboxIsReplacedAndMissingTemplateFails) {
  Fixture f;
  FailingOps ops;
  fs::create_directories(f.root / "uvms" / "web-0");
  std::ofstream(f.root / "uvms" / "web-0" / "sandbox.vhdx") << "STALE";
  auto uvm = Uvm::prepare(ops, f.root, "web-0", f.boot, f.vm, false);
  ASSERT_TRUE(uvm) << uvm.error().message;
  EXPECT_EQ(read(uvm->paths().sandbox_vhdx), "PRETEND VHDX");
  ASSERT_TRUE(uvm->cleanup());

  fs::remove(f.boot.system_template_vhdx);
  auto missing = Uvm::prepare(ops, f.root, "web-1", f.boot, f.vm, false);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("copy the system template"), std::string::npos)
      << missing.error().message;
  EXPECT_FALSE(fs::exists(f.root / "uvms" / "web-1"));
}

TEST(UvmLayout, KeepFlagFromEnvironment) {
#ifdef _WIN32
  _putenv_s("ZLAYER_KEEP_UVM_ON_FAILURE", "1");
  EXPECT_TRUE(keep_uvm_on_failure_from_env());
  _putenv_s("ZLAYER_KEEP_UVM_ON_FAILURE", "0");
  EXPECT_FALSE(keep_uvm_on_failure_from_env());
#else
  setenv("ZLAYER_KEEP_UVM_ON_FAILURE", "1", 1);
  EXPECT_TRUE(keep_uvm_on_failure_from_env());
  setenv("ZLAYER_KEEP_UVM_ON_FAILURE", "yes", 1);
  EXPECT_FALSE(keep_uvm_on_failure_from_env());
  unsetenv("ZLAYER_KEEP_UVM_ON_FAILURE");
#endif
  EXPECT_FALSE(keep_uvm_on_failure_from_env());
}

}  // namespace
}  // namespace zl::win
