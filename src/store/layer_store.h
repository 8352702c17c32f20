// Unpacked layers, one read-only directory per diff-id: <root>/layers/sha256/<hex>/fs, shared
// by every image and container that uses the layer (as an overlayfs lower dir). A layer is
// unpacked once: into a temp dir, diff-id verified, then renamed into place.
#pragma once

#include <string>
#include <vector>

#include "common/digest.h"
#include "common/fs.h"

namespace zl {

struct LayerInfo {
  Digest diff_id;
  uint64_t size = 0;  // bytes of regular files
};

class LayerStore {
 public:
  explicit LayerStore(fs::path root);
  Status init();

  fs::path layer_dir(const Digest& diff_id) const;  // the fs/ tree to use as a lower dir
  bool has(const Digest& diff_id) const;
  // Unpacks the (gzip/zstd/plain) tar blob at `blob` unless the layer exists. The uncompressed
  // stream must hash to expected_diff_id (corrupt otherwise); hostile entries are refused.
  Status ensure_unpacked(const fs::path& blob, const Digest& expected_diff_id);
  Status remove(const Digest& diff_id);
  Result<std::vector<LayerInfo>> list() const;

 private:
  fs::path root_;
};

}  // namespace zl
