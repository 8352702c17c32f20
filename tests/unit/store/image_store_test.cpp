// ImageStore on blobs the test puts in the content store itself: commit, resolve, inspect,
// tag, remove, prune, verify.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "store/image_store.h"
#include "unit/store/tar_builder.h"

namespace zl {
namespace {

using namespace zl::test;
using json = nlohmann::json;

struct TestImage {
  ImageRecord record;
  std::vector<Digest> layer_blobs;
  std::vector<Digest> diff_ids;
  uint64_t size = 0;  // config + compressed layers
};

std::string config_json(const std::vector<Digest>& diff_ids, const std::string& variant) {
  json ids = json::array();
  for (const auto& d : diff_ids) ids.push_back(d.str());
  return json{{"architecture", "amd64"},
              {"os", "linux"},
              {"variant", variant},
              {"config", {{"Cmd", {"/bin/sh"}}}},
              {"rootfs", {{"type", "layers"}, {"diff_ids", ids}}}}
      .dump();
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create(fs::temp_directory_path(), "zl-images-test-");
    ASSERT_TRUE(dir);
    tmp_.emplace(std::move(*dir));
    store_.emplace(tmp_->path());
    ASSERT_TRUE(store_->init());
  }

  Digest put(const std::string& data) {
    auto d = store_->content().put(data);
    EXPECT_TRUE(d) << d.error().message;
    return *d;
  }

  // Puts layers, config and manifest in the content store; returns the record to commit.
  TestImage make_image(const std::string& ref, const std::vector<std::string>& tars,
                       const std::string& variant = "", std::optional<std::vector<Digest>> diff_ids = {}) {
    TestImage img{
        .record = {.reference = ref, .manifest_digest = sha256_of(""), .config_digest = sha256_of("")}};
    json layers = json::array();
    for (const auto& tar : tars) {
      std::string gz = compress(tar, Compression::gzip);
      img.layer_blobs.push_back(put(gz));
      img.diff_ids.push_back(sha256_of(tar));
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                        {"digest", img.layer_blobs.back().str()},
                        {"size", gz.size()}});
      img.size += gz.size();
    }
    std::string config = config_json(diff_ids.value_or(img.diff_ids), variant);
    img.record.config_digest = put(config);
    img.size += config.size();
    std::string manifest = json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", img.record.config_digest.str()},
          {"size", config.size()}}},
        {"layers", layers}}.dump();
    img.record.manifest_digest = put(manifest);
    img.record.platform = "linux/amd64";
    return img;
  }

  TestImage commit(const std::string& ref, const std::vector<std::string>& tars,
                   const std::string& variant = "") {
    TestImage img = make_image(ref, tars, variant);
    auto st = store_->commit_image(img.record);
    EXPECT_TRUE(st) << st.error().message;
    return img;
  }

  std::optional<TempDir> tmp_;
  std::optional<ImageStore> store_;
};

const std::string kBase =
    make_tar({dir("bin"), file("bin/busybox", "ELF", 0755), symlink("bin/sh", "/bin/busybox")});
const std::string kApp = make_tar({file("app/run", "#!/bin/sh\n", 0755)});
const std::string kOther = make_tar({file("other", "other")});

TEST_F(ImageStoreTest, CommitUnpacksLayersAndInspectShowsThem) {
  TestImage img = commit("example.com/app:1", {kBase, kApp, kOther});
  auto d = store_->inspect("example.com/app:1");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->record.manifest_digest, img.record.manifest_digest);
  EXPECT_GT(d->record.created_unix, 0);
  EXPECT_EQ(d->layer_blobs, img.layer_blobs);
  EXPECT_EQ(d->diff_ids, img.diff_ids);
  ASSERT_EQ(d->layer_dirs.size(), 3u);
  EXPECT_EQ(*read_file(d->layer_dirs[0] / "bin/busybox"), "ELF");  // lowest first
  EXPECT_EQ(*read_file(d->layer_dirs[1] / "app/run"), "#!/bin/sh\n");
  EXPECT_EQ(d->config["config"]["Cmd"][0], "/bin/sh");
  EXPECT_EQ(d->manifest["layers"].size(), 3u);
  EXPECT_EQ(d->size, img.size);

  auto list = store_->list();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].reference, "example.com/app:1");
  EXPECT_EQ((*list)[0].config_digest, img.record.config_digest);
  EXPECT_EQ((*list)[0].size, img.size);
  EXPECT_TRUE(store_->verify());
}

TEST_F(ImageStoreTest, CommitRefusesIncompleteOrInconsistentImages) {
  TestImage missing = make_image("example.com/missing:1", {kBase});
  ASSERT_TRUE(store_->content().remove(missing.layer_blobs[0]));
  auto st = store_->commit_image(missing.record);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::not_found);
  EXPECT_NE(st.error().message.find(missing.layer_blobs[0].str()), std::string::npos) << st.error().message;

  TestImage count =
      make_image("example.com/count:1", {kBase, kApp}, "", std::vector<Digest>{sha256_of(kBase)});
  st = store_->commit_image(count.record);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(st.error().message.find("2 layers"), std::string::npos) << st.error().message;

  TestImage wrong = make_image("example.com/wrong:1", {kApp}, "", std::vector<Digest>{sha256_of("nope")});
  st = store_->commit_image(wrong.record);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);

  TestImage mixed = make_image("example.com/mixed:1", {kApp});
  mixed.record.config_digest = sha256_of("another config");
  EXPECT_EQ(store_->commit_image(mixed.record).error().kind, ErrorKind::invalid_argument);

  EXPECT_TRUE(store_->index().list()->empty());
  EXPECT_TRUE(store_->layers().list()->empty());
}

TEST_F(ImageStoreTest, ResolveByReferenceIdPrefixAndManifestDigest) {
  TestImage img = commit("example.com/app:1", {kApp});
  std::string id(img.record.config_digest.hex());
  for (std::string name :
       {std::string("example.com/app:1"), id, id.substr(0, 4), id.substr(0, 12),
        img.record.config_digest.str(), "sha256:" + id.substr(0, 8), img.record.manifest_digest.str()}) {
    auto r = store_->resolve(name);
    ASSERT_TRUE(r) << name << ": " << r.error().message;
    EXPECT_EQ(r->reference, "example.com/app:1");
  }
  for (std::string name : {id.substr(0, 3), std::string("example.com/app:2"), std::string(64, 'f')}) {
    auto r = store_->resolve(name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().kind, ErrorKind::not_found);
    EXPECT_EQ(r.error().message, "image " + name + " not found");
  }
}

TEST_F(ImageStoreTest, AmbiguousIdPrefixIsRefused) {
  // Two configs whose ids share 4 leading hex digits: found by varying a config field.
  std::map<std::string, std::string> seen;
  std::pair<std::string, std::string> clash;
  for (int i = 0; clash.first.empty(); ++i) {
    std::string variant = "v" + std::to_string(i);
    std::string prefix(sha256_of(config_json({sha256_of(kApp)}, variant)).hex().substr(0, 4));
    if (auto it = seen.find(prefix); it != seen.end()) clash = {it->second, variant};
    seen.emplace(prefix, variant);
  }
  TestImage a = commit("example.com/a:1", {kApp}, clash.first);
  TestImage b = commit("example.com/b:1", {kApp}, clash.second);
  std::string prefix(a.record.config_digest.hex().substr(0, 4));
  auto r = store_->resolve(prefix);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
  EXPECT_NE(r.error().message.find("ambiguous"), std::string::npos) << r.error().message;
  EXPECT_EQ(store_->resolve(std::string(b.record.config_digest.hex().substr(0, 16)))->reference,
            "example.com/b:1");
}

TEST_F(ImageStoreTest, TagThenRemoveByNameKeepsTheImage) {
  TestImage img = commit("example.com/app:1", {kApp});
  ASSERT_TRUE(store_->tag("example.com/app:1", "example.com/app:latest"));
  EXPECT_EQ(store_->resolve("example.com/app:latest")->config_digest, img.record.config_digest);
  EXPECT_EQ(store_->tag("nothing:here", "x:y").error().kind, ErrorKind::not_found);

  std::string id(img.record.config_digest.hex());
  auto by_id = store_->remove(id, false);
  ASSERT_FALSE(by_id);  // two names: ambiguous what to drop
  EXPECT_EQ(by_id.error().kind, ErrorKind::conflict);

  auto removed = store_->remove("example.com/app:1", false);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, std::vector<std::string>{"example.com/app:1"});
  EXPECT_TRUE(store_->resolve(id));
  EXPECT_EQ(store_->remove("example.com/app:1", false).error().kind, ErrorKind::not_found);

  removed = store_->remove(id, false);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(*removed, std::vector<std::string>{"example.com/app:latest"});
  EXPECT_TRUE(store_->index().list()->empty());
}

TEST_F(ImageStoreTest, RemoveRefusesImageInUseUnlessForced) {
  TestImage img = commit("example.com/app:1", {kApp});
  ASSERT_TRUE(store_->tag("example.com/app:1", "example.com/app:2"));
  std::vector<Digest> asked;
  auto in_use = [&](const Digest& d) {
    asked.push_back(d);
    return true;
  };
  EXPECT_TRUE(store_->remove("example.com/app:2", false, in_use));  // another name remains: no check
  EXPECT_TRUE(asked.empty());
  auto st = store_->remove("example.com/app:1", false, in_use);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::conflict);
  EXPECT_EQ(asked, std::vector<Digest>{img.record.config_digest});
  EXPECT_TRUE(store_->resolve("example.com/app:1"));
  auto forced = store_->remove("example.com/app:1", true, in_use);
  ASSERT_TRUE(forced) << forced.error().message;
  EXPECT_FALSE(store_->resolve("example.com/app:1"));
}

TEST_F(ImageStoreTest, PruneDeletesOnlyUnreferencedBlobsAndLayers) {
  TestImage keep = commit("example.com/keep:1", {kBase, kApp});
  TestImage drop = commit("example.com/drop:1", {kBase, kOther}, "drop");
  Digest stray = put("a blob nobody references");
  ASSERT_TRUE(store_->remove("example.com/drop:1", false));
  uint64_t expected_bytes = 5;  // kOther's unpacked layer: one 5-byte file
  for (const auto& d : {drop.record.manifest_digest, drop.record.config_digest, drop.layer_blobs[1], stray})
    expected_bytes += *store_->content().size(d);

  auto report = store_->prune();
  ASSERT_TRUE(report) << report.error().message;
  std::set<Digest> removed(report->blobs_removed.begin(), report->blobs_removed.end());
  EXPECT_EQ(removed, (std::set<Digest>{drop.record.manifest_digest, drop.record.config_digest,
                                       drop.layer_blobs[1], stray}));
  EXPECT_EQ(report->layers_removed, std::vector<Digest>{drop.diff_ids[1]});
  EXPECT_EQ(report->bytes_freed, expected_bytes);

  EXPECT_TRUE(store_->layers().has(keep.diff_ids[0]));
  EXPECT_TRUE(store_->layers().has(keep.diff_ids[1]));
  EXPECT_TRUE(store_->content().has(keep.record.manifest_digest));
  EXPECT_TRUE(store_->verify());
  auto again = store_->prune();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->blobs_removed.empty());
  EXPECT_EQ(again->bytes_freed, 0u);
}

TEST_F(ImageStoreTest, PruneWaitsForLeasesWithoutDeadlock) {
  Digest in_flight = put("a blob a pull is still downloading");
  auto lease = store_->lease();  // a puller's lease, held from its first blob
  ASSERT_TRUE(lease);
  std::atomic<bool> done{false};
  std::thread pruner([&] {
    ImageStore other(tmp_->path());
    auto report = other.prune();
    EXPECT_TRUE(report) << report.error().message;
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(done);
  EXPECT_TRUE(store_->content().has(in_flight));
  {
    auto lock = store_->lock_exclusive();  // the puller commits under the store lock: no deadlock
    ASSERT_TRUE(lock);
  }
  lease = store_->lease();  // re-taking a lease while prune waits is fine too
  ASSERT_TRUE(lease);
  lease = tl::unexpected(Error{});  // released
  pruner.join();
  EXPECT_TRUE(done);
  EXPECT_FALSE(store_->content().has(in_flight));
}

TEST_F(ImageStoreTest, VerifyReportsCorruptBlobsAndMissingLayers) {
  TestImage img = commit("example.com/app:1", {kBase, kApp});
  ASSERT_TRUE(store_->verify());
  std::ofstream(store_->content().blob_path(img.layer_blobs[1]), std::ios::trunc) << "bitrot";
  ASSERT_TRUE(remove_tree(fs::path(store_->layers().layer_dir(img.diff_ids[0])).parent_path()));
  auto st = store_->verify();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::corrupt);
  EXPECT_NE(st.error().message.find(img.layer_blobs[1].str()), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(img.diff_ids[0].str()), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("2 problems"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace zl
