// Helpers for oci/ tests: a temp rootfs with /etc/passwd and /etc/group, default bundle inputs,
// and validation of a config.json against the OCI runtime-spec 1.1.0 schemas.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/fs.h"
#include "common/subprocess.h"
#include "oci/bundle_builder.h"

namespace zl::test {

inline const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "# a comment\n"
    "app:x:1000:1000:App:/home/app:/bin/sh\n"
    "nohome:x:1001:1001::\n"
    "broken-line\n";
inline const char* kGroup =
    "root:x:0:\n"
    "daemon:x:1:app\n"
    "app:x:1000:\n"
    "audio:x:29:app,nohome\n"
    "video:x:44:nohome\n"
    "staff:x:50:\n";

// A directory under /tmp standing in for a container rootfs, removed afterwards.
class TestRootfs {
 public:
  explicit TestRootfs(bool with_etc = true)
      : dir_(*TempDir::create(fs::temp_directory_path(), "zl-oci-test-")) {
    fs::create_directories(path());
    if (with_etc) {
      write("etc/passwd", kPasswd);
      write("etc/group", kGroup);
    }
  }
  const fs::path& base() const { return dir_.path(); }  // holds rootfs/ and room for host files
  fs::path path() const { return dir_.path() / "rootfs"; }
  void write(const std::string& rel, const std::string& content) const {
    fs::create_directories((path() / rel).parent_path());
    ASSERT_TRUE(write_file_atomic(path() / rel, content));
  }

 private:
  TempDir dir_;
};

inline nlohmann::json image_config(nlohmann::json config) {
  return {{"architecture", "amd64"}, {"os", "linux"}, {"config", std::move(config)}};
}

// Inputs that build: an image running /bin/sh, the given rootfs, the real host.
inline BundleInputs basic_inputs(const fs::path& rootfs) {
  BundleInputs in;
  in.image_config = image_config({{"Cmd", {"/bin/sh"}}, {"Env", {"PATH=/usr/bin:/bin"}}});
  in.rootfs = rootfs;
  in.container_id = "0123456789abcdef0123456789abcdef";
  return in;
}

// Runs the schema validator; ok() when the config is valid, else out lists the violations.
inline SubprocessResult validate_against_schema(const nlohmann::json& config) {
  SubprocessOptions opts;
  opts.stdin_data = config.dump();
  auto r = run_process({"/usr/bin/python3", ZLAYER_UNIT_TEST_DIR "/oci/validate_config.py",
                        ZLAYER_SHARED_DIR "/oci/runtime-spec-1.1.0/schema"},
                       opts);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : SubprocessResult{};
}

inline bool contains(const nlohmann::json& array, const nlohmann::json& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

// The mount at `destination` in config["mounts"], or null.
inline nlohmann::json mount_at(const nlohmann::json& config, const std::string& destination) {
  for (const auto& m : config["mounts"])
    if (m["destination"] == destination) return m;
  return nullptr;
}

}  // namespace zl::test
