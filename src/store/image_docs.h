// An image's manifest and config as stored blobs: parsed with nlohmann::json into the digests
// and sizes the store needs (layers, config, diff-ids), with precise errors for bad documents.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/content_store.h"

namespace zl {

struct ImageDocs {
  nlohmann::json manifest;
  nlohmann::json config;  // null unless loaded
  Digest config_digest;
  uint64_t config_size = 0;
  std::vector<Digest> layer_blobs;  // manifest order
  std::vector<uint64_t> layer_sizes;
  std::vector<Digest> diff_ids;  // config rootfs.diff_ids (empty unless the config was loaded)

  uint64_t size() const;  // config + compressed layers, as the manifest declares them
};

// The manifest only (config left unloaded).
Result<ImageDocs> read_manifest_docs(const ContentStore& content, const Digest& manifest);
// Manifest and config; invalid_argument when the layer count differs from the diff-id count.
Result<ImageDocs> read_image_docs(const ContentStore& content, const Digest& manifest);

}  // namespace zl
