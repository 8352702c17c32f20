// The node's image store: blobs + unpacked layers + the reference index, and the image
// operations on them (list, inspect, tag, remove, prune). The puller and the importers
// write into it; containers read layer dirs and configs from it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/content_store.h"
#include "store/image_index.h"
#include "store/layer_store.h"

namespace zl {

struct ImageSummary {
  std::string reference;
  Digest manifest_digest;
  Digest config_digest;  // hex = image id
  uint64_t size = 0;     // compressed layer bytes + config
  int64_t created_unix = 0;
};

// What `image inspect` shows: the parsed manifest/config plus where the layers are.
struct ImageDetails {
  ImageRecord record;
  nlohmann::json manifest;
  nlohmann::json config;
  std::vector<Digest> layer_blobs;   // manifest order (compressed digests)
  std::vector<Digest> diff_ids;      // config rootfs.diff_ids, same order
  std::vector<fs::path> layer_dirs;  // unpacked layer trees, lowest first
  uint64_t size = 0;
};

struct PruneReport {
  std::vector<Digest> blobs_removed;
  std::vector<Digest> layers_removed;
  uint64_t bytes_freed = 0;
};

class ImageStore {
 public:
  // Root dir of zlayer (e.g. /var/lib/zlayer); the store uses blobs/, layers/, images.json, locks/.
  explicit ImageStore(fs::path root);
  Status init();

  ContentStore& content() { return content_; }
  LayerStore& layers() { return layers_; }
  ImageIndex& index() { return index_; }
  const fs::path& root() const { return root_; }

  // Lock held by anything that adds or removes images/blobs/layers (pull commit, rmi, prune).
  // tag(), remove() and prune() take it themselves: don't call them while holding it (flock
  // locks are per open file, so that would deadlock).
  Result<FileLock> lock_exclusive();
  // Shared lease that keeps prune() away: hold it from the first blob written for an image
  // until commit_image() returned (commit_image() takes one itself). prune() takes it
  // exclusively, so it never deletes the blobs of a pull in flight.
  Result<FileLock> lease();

  // Resolves what a user typed: a reference (normalized by the caller's parser), an image id
  // (full or unique prefix of the config digest hex, >= 4 chars) or a manifest digest.
  Result<ImageRecord> resolve(const std::string& name_or_id) const;

  Result<std::vector<ImageSummary>> list() const;
  Result<ImageDetails> inspect(const std::string& name_or_id) const;
  // New reference for an existing image; target must already be normalized.
  Status tag(const std::string& source, const std::string& target_reference);
  // Removes a reference. With more than one reference to the same image only the name goes;
  // the last one goes only if `in_use(config_digest)` is false, or with force.
  // Returns the references untagged.
  using InUse = std::function<bool(const Digest& config_digest)>;
  Result<std::vector<std::string>> remove(const std::string& name_or_id, bool force,
                                          const InUse& in_use = {});
  // Deletes blobs and layers no image record references (record's index, manifest, config,
  // layer blobs; layers by the config's diff-ids).
  Result<PruneReport> prune();
  // Full verification: every blob re-hashed, every record's manifest/config/layers present.
  Status verify() const;

  // Registers a complete image whose manifest, config and layer blobs are already in the
  // content store: unpacks the layers (checking diff-ids, up to 4 in parallel) and writes the
  // index record (created_unix set to now when 0).
  Status commit_image(const ImageRecord& rec);

 private:
  fs::path root_;
  ContentStore content_;
  LayerStore layers_;
  ImageIndex index_;
};

}  // namespace zl
