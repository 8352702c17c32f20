// Shared set-up of the pull end-to-end tests: one registry per test process with images pushed
// on first use, a fresh store per test, and registry options isolated from ~/.docker.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "fixtures/registry.h"
#include "fixtures/store_fixture.h"
#include "fixtures/test_images.h"
#include "image/puller.h"

namespace zl::testing {

// The images SharedRegistry can push, by "repo:tag".
//   busybox:oci      one-layer OCI image          busybox:v2s2   the same as Docker v2s2
//   multi:latest     index of amd64 + arm64/v8     layered:latest three layers, one whiteout
class SharedRegistry {
 public:
  static SharedRegistry& get();
  // Empty string when the registry is up; the start error otherwise.
  const std::string& error() const { return error_; }
  const TestRegistry& registry() const { return *registry_; }
  std::string host() const { return registry_->host(); }
  // Pushes `name` once per process; returns the digest the registry holds for it.
  Result<Digest> image(const std::string& name);

 private:
  SharedRegistry();
  std::unique_ptr<TestRegistry> registry_;
  std::string error_;
  std::map<std::string, Digest> pushed_;
};

class PullE2E : public ::testing::Test {
 protected:
  void SetUp() override;
  // Pulls `ref` with the test's options into the test's store.
  Result<ImageRecord> pull(const std::string& ref, const PullOptions& o = {});
  // ASSERT-style helper for the shared registry's images: "host/repo:tag" after pushing it.
  std::string shared_ref(const std::string& name);
  // The unpacked layer dirs of a pulled image, lowest first.
  std::vector<fs::path> layer_dirs(const ImageRecord& rec);

  std::unique_ptr<TempImageStore> store_;
  RegistryOptions opts_;
};

}  // namespace zl::testing
