// The layer unpacking engine: one streaming pass over a gzip/zstd/plain tar that hashes the
// uncompressed bytes (the diff-id) while it writes the entries safely under a directory.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "common/digest.h"
#include "common/fs.h"
#include "store/layer_tree.h"

namespace zl {

struct UnpackStats {
  Digest diff_id;        // sha256 of the whole uncompressed tar stream, trailing padding included
  uint64_t size = 0;     // bytes of regular files (hardlinks counted once)
  uint64_t entries = 0;  // archive entries processed
};

// Unpacks the tar read from blob_fd into dest (an existing, empty directory). OCI whiteouts
// become overlayfs ones: ".wh.<name>" -> char device 0/0 <name>, ".wh..wh..opq" -> xattr
// trusted.overlay.opaque=y on the directory. Ownership, modes, mtimes, xattrs, hardlinks,
// symlinks, devices and fifos are kept. A hostile entry (absolute or ".." path, path through a
// symlink, hardlink or relative symlink leaving the root) fails with invalid_argument before
// anything is written outside dest; broken compression fails with corrupt. On failure dest is
// left half-filled: the caller owns and removes it. Nothing is fsynced here.
Result<UnpackStats> unpack_layer(int blob_fd, const fs::path& dest);
Result<UnpackStats> unpack_layer(const fs::path& blob, const fs::path& dest);

// The same engine for a tar that is not an image layer (`docker cp` into a container): entries
// are written through `tree` (see LayerTree::Options), ".wh." names are ordinary files, and
// with `owner` set every entry gets that owner instead of the archive's.
struct TarExtractOptions {
  std::optional<std::pair<uid_t, gid_t>> owner;
};
Result<UnpackStats> extract_tar(const ReadFn& read, LayerTree& tree, const TarExtractOptions& opts);

}  // namespace zl
