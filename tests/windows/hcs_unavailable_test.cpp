// Windows only, run under Wine in CI: a host without the Host Compute Service. The exe starts,
// and every call that needs HCS, HCN or HCS storage fails with the one clear error (kind
// unavailable, "HCS is not available on this host") instead of crashing.
#include <gtest/gtest.h>

#include "runtime/windows/compute_system.h"
#include "runtime/windows/hcn_network.h"
#include "runtime/windows/hcs_runtime.h"
#include "runtime/windows/wclayer.h"

namespace zl::win {
namespace {

void expect_unavailable(const Error& e) {
  EXPECT_EQ(e.kind, ErrorKind::unavailable) << e.message;
  EXPECT_NE(e.message.find(std::string(kHcsUnavailable)), std::string::npos) << e.message;
}

template <class R>
void expect_unavailable(const R& r) {
  ASSERT_FALSE(r);
  expect_unavailable(r.error());
}

class TempRoot {
 public:
  TempRoot() : path_(fs::temp_directory_path() / ("zl-hcs-test-" + random_guid().str())) {}
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(HcsUnavailable, ApiTablesSayWhy) {
  expect_unavailable(hcs_api());
  expect_unavailable(hcn_api());
  expect_unavailable(hcs_storage_api());
  // virtdisk.dll: Wine has one or not; either way the scratch layer needs computestorage first.
  EXPECT_NE(hcs_api().error().message.find("computecore.dll"), std::string::npos);
  EXPECT_NE(hcn_api().error().message.find("computenetwork.dll"), std::string::npos);
}

TEST(HcsUnavailable, ComputeSystemCalls) {
  expect_unavailable(ComputeSystem::create("c1", "{}"));
  expect_unavailable(ComputeSystem::open("c1"));
  expect_unavailable(ComputeSystem::enumerate_owned());
}

TEST(HcsUnavailable, StorageAndNetworkCalls) {
  TempRoot tmp;
  expect_unavailable(import_layer(tmp.path() / "l", tmp.path() / "src", {}));
  expect_unavailable(ScratchLayer::create(tmp.path() / "s", 1, {}));
  EXPECT_FALSE(fs::exists(tmp.path() / "s"));  // nothing made
  expect_unavailable(grant_vm_access(random_guid(), tmp.path()));
  expect_unavailable(reap_orphan_endpoints({}));
  HcnNetwork net(*NodeNetwork::make("10.200.0.0/16", "10.200.1.0/28"), "");
  expect_unavailable(net.ensure_overlay());
  expect_unavailable(net.attach("c1", *net::parse_ipv4("10.200.1.5"), std::nullopt, std::nullopt));
}

TEST(HcsUnavailable, RuntimeCallsAndWhatWorksWithout) {
  TempRoot tmp;
  HcsConfig cfg;
  cfg.root = tmp.path();
  auto rt = HcsRuntime::open(cfg);
  ASSERT_TRUE(rt) << rt.error().message;  // opening needs no HCS
  auto& r = **rt;
  // The image index and records are plain files: they work.
  auto idx = r.images();
  ASSERT_TRUE(idx);
  EXPECT_TRUE(idx->images().empty());
  EXPECT_TRUE(r.list_records()->empty());
  EXPECT_EQ(r.tag_image("nope", "x").error().kind, ErrorKind::not_found);
  // Everything that needs HCS says so, and leaves nothing behind.
  RunOptions run;
  run.id = "c1";
  run.image = "app";
  run.argv = {"cmd", "/c", "exit 0"};
  expect_unavailable(r.run(run, {}));
  EXPECT_FALSE(fs::exists(tmp.path() / "containers" / "c1.json"));
  expect_unavailable(r.import_image("app", {tmp.path()}));
  expect_unavailable(r.list_systems());
  expect_unavailable(r.reconcile());
  // Invalid input is reported as such before HCS is needed.
  EXPECT_EQ(r.kill("c1", "SIGBOGUS").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(r.stop("c1", std::chrono::seconds(1)).error().kind, ErrorKind::not_found);
}

}  // namespace
}  // namespace zl::win
