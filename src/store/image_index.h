// The index of images on this node: reference -> image record, kept in <root>/images.json,
// rewritten atomically under <root>/locks/images.lock. The blobs it points at live in ContentStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/fs.h"

namespace zl {

struct ImageRecord {
  std::string reference;  // normalized, e.g. "docker.io/library/busybox:1.36" or "host:5000/a/b@sha256:..."
  Digest manifest_digest;  // the platform-specific image manifest
  Digest config_digest;    // the image config; its hex is the image id
  std::optional<Digest> index_digest;  // the multi-platform index the manifest was chosen from
  std::string platform;    // "linux/amd64"
  int64_t created_unix = 0;  // when the record was written
};

class ImageIndex {
 public:
  explicit ImageIndex(fs::path root);
  Result<std::vector<ImageRecord>> list() const;
  Result<std::optional<ImageRecord>> find(const std::string& reference) const;
  // Upserts by reference.
  Status put(const ImageRecord& rec);
  // Removes the reference; not_found if absent.
  Status remove(const std::string& reference);

 private:
  fs::path root_;
};

}  // namespace zl
