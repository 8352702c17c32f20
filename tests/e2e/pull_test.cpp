// Pulling from a real docker-registry: OCI and Docker images, multi-platform indexes, by tag
// and by digest, layers unpacked on disk, progress events, and unknown images.
#include <sys/stat.h>

#include "e2e/pull_env.h"

namespace zl::testing {
namespace {

std::string read_text(const fs::path& p) {
  auto t = read_file(p);
  return t ? *t : "<" + t.error().message + ">";
}

TEST_F(PullE2E, OciImageByTagIsStoredAndUnpacked) {
  std::string ref = shared_ref("busybox:oci");
  auto pushed = SharedRegistry::get().image("busybox:oci");
  ASSERT_TRUE(pushed);
  auto rec = pull(ref);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->reference, ref);
  EXPECT_EQ(rec->manifest_digest, *pushed);
  EXPECT_FALSE(rec->index_digest);
  EXPECT_EQ(rec->platform, "linux/amd64");

  auto& content = store_->store().content();
  EXPECT_TRUE(content.has(rec->manifest_digest));
  EXPECT_TRUE(content.has(rec->config_digest));
  auto dirs = layer_dirs(*rec);
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(dirs[0] / "bin" / "busybox"));
  EXPECT_EQ(fs::file_size(dirs[0] / "bin" / "busybox"), fs::file_size("/bin/busybox"));
  EXPECT_TRUE(fs::is_symlink(dirs[0] / "bin" / "sh"));
  EXPECT_EQ(read_text(dirs[0] / "etc" / "arch"), "amd64\n");

  auto found = store_->store().index().find(ref);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->manifest_digest, *pushed);
}

TEST_F(PullE2E, DockerV2S2Image) {
  std::string ref = shared_ref("busybox:v2s2");
  auto rec = pull(ref);
  ASSERT_TRUE(rec) << rec.error().message;
  auto details = store_->store().inspect(ref);
  ASSERT_TRUE(details) << details.error().message;
  EXPECT_EQ(details->manifest.value("mediaType", ""), media::docker_manifest);
  ASSERT_EQ(details->layer_dirs.size(), 1u);
  EXPECT_TRUE(fs::is_regular_file(details->layer_dirs[0] / "bin" / "busybox"));
}

TEST_F(PullE2E, MultiPlatformIndexResolvesToTheNodePlatform) {
  std::string ref = shared_ref("multi:latest");
  auto index = SharedRegistry::get().image("multi:latest");
  ASSERT_TRUE(index);
  auto rec = pull(ref);
  ASSERT_TRUE(rec) << rec.error().message;
  ASSERT_TRUE(rec->index_digest);
  EXPECT_EQ(*rec->index_digest, *index);
  EXPECT_NE(rec->manifest_digest, *index);
  EXPECT_EQ(rec->platform, "linux/amd64");
  EXPECT_TRUE(store_->store().content().has(*index));  // the index blob is kept too
  auto dirs = layer_dirs(*rec);
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(read_text(dirs[0] / "etc" / "arch"), "amd64\n");
}

TEST_F(PullE2E, PlatformOptionChoosesArm64) {
  std::string ref = shared_ref("multi:latest");
  auto rec = pull(ref, {.platform = *Platform::parse("linux/arm64")});
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->platform, "linux/arm64");
  auto dirs = layer_dirs(*rec);
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(read_text(dirs[0] / "etc" / "arch"), "arm64\n");
}

TEST_F(PullE2E, PlatformMissingFromIndexIsNotFound) {
  std::string ref = shared_ref("multi:latest");
  auto rec = pull(ref, {.platform = *Platform::parse("linux/s390x")});
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::not_found);
  EXPECT_NE(rec.error().message.find("no image for platform linux/s390x"), std::string::npos)
      << rec.error().message;
  EXPECT_NE(rec.error().message.find("linux/amd64, linux/arm64/v8"), std::string::npos)
      << rec.error().message;
}

TEST_F(PullE2E, ByDigest) {
  shared_ref("busybox:oci");
  auto digest = SharedRegistry::get().image("busybox:oci");
  ASSERT_TRUE(digest);
  std::string ref = SharedRegistry::get().host() + "/busybox@" + digest->str();
  auto rec = pull(ref);
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->reference, ref);
  EXPECT_EQ(rec->manifest_digest, *digest);
  EXPECT_TRUE(store_->store().content().has(*digest));
}

TEST_F(PullE2E, ByDigestOfAnIndexAndWithTagAndDigest) {
  shared_ref("multi:latest");
  auto index = SharedRegistry::get().image("multi:latest");
  ASSERT_TRUE(index);
  std::string ref = SharedRegistry::get().host() + "/multi:latest@" + index->str();
  auto rec = pull(ref, {.platform = *Platform::parse("linux/arm64/v8")});
  ASSERT_TRUE(rec) << rec.error().message;
  EXPECT_EQ(rec->index_digest, *index);
  EXPECT_EQ(rec->platform, "linux/arm64");
}

TEST_F(PullE2E, UnknownDigestIsNotFound) {
  shared_ref("busybox:oci");
  std::string ref = SharedRegistry::get().host() + "/busybox@sha256:" + std::string(64, 'e');
  auto rec = pull(ref);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::not_found) << rec.error().message;
}

TEST_F(PullE2E, UnknownImageIsNotFound) {
  shared_ref("busybox:oci");
  std::string ref = SharedRegistry::get().host() + "/no-such-image:latest";
  auto rec = pull(ref);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::not_found) << rec.error().message;
  EXPECT_TRUE(rec.error().message.starts_with("pull " + ref + ": ")) << rec.error().message;
  EXPECT_NE(rec.error().message.find("not found in registry"), std::string::npos) << rec.error().message;
}

TEST_F(PullE2E, UnknownTagIsNotFound) {
  std::string ref = shared_ref("busybox:oci");
  ref.replace(ref.rfind(":oci"), 4, ":no-such-tag");
  auto rec = pull(ref);
  ASSERT_FALSE(rec);
  EXPECT_EQ(rec.error().kind, ErrorKind::not_found) << rec.error().message;
  EXPECT_NE(rec.error().message.find("busybox:no-such-tag"), std::string::npos) << rec.error().message;
}

TEST_F(PullE2E, MultiLayerImageWithWhiteout) {
  std::string ref = shared_ref("layered:latest");
  auto rec = pull(ref);
  ASSERT_TRUE(rec) << rec.error().message;
  auto dirs = layer_dirs(*rec);
  ASSERT_EQ(dirs.size(), 3u);
  EXPECT_TRUE(fs::is_regular_file(dirs[0] / "bin" / "busybox"));
  EXPECT_EQ(read_text(dirs[1] / "data" / "keep"), "kept\n");
  EXPECT_TRUE(fs::is_regular_file(dirs[1] / "data" / "gone"));
  EXPECT_EQ(read_text(dirs[2] / "data" / "new"), "added\n");
  // The whiteout became an overlayfs whiteout: a 0/0 character device named like the file.
  struct stat st {};
  ASSERT_EQ(::lstat((dirs[2] / "data" / "gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, 0u);
  EXPECT_FALSE(fs::exists(dirs[2] / "data" / ".wh.gone"));
}

TEST_F(PullE2E, ProgressReportsEveryBlob) {
  std::string ref = shared_ref("layered:latest");
  std::vector<BlobProgress> events;
  auto rec = pull(ref, {.progress = [&](const BlobProgress& p) { events.push_back(p); }});
  ASSERT_TRUE(rec) << rec.error().message;
  auto details = store_->store().inspect(ref);
  ASSERT_TRUE(details);
  for (const auto& layer : details->layer_blobs) {
    SCOPED_TRACE(layer.str());
    bool waiting = false, verified = false;
    uint64_t last_done = 0;
    for (const auto& e : events) {
      if (e.digest != layer) continue;
      EXPECT_FALSE(e.is_config);
      EXPECT_GE(e.done, last_done);
      last_done = e.done;
      waiting |= e.state == BlobProgress::State::waiting;
      if (e.state == BlobProgress::State::verified) {
        verified = true;
        EXPECT_EQ(e.done, e.total);
      }
    }
    EXPECT_TRUE(waiting);
    EXPECT_TRUE(verified);
  }
  auto config = std::find_if(events.begin(), events.end(), [](const BlobProgress& e) { return e.is_config; });
  ASSERT_NE(config, events.end());
  EXPECT_EQ(config->digest, rec->config_digest);

  // A second image sharing the busybox layer reports it as already there.
  events.clear();
  auto again =
      pull(shared_ref("busybox:oci"), {.progress = [&](const BlobProgress& p) { events.push_back(p); }});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [](const BlobProgress& e) {
    return !e.is_config && e.state == BlobProgress::State::already_exists;
  }));
}

}  // namespace
}  // namespace zl::testing
