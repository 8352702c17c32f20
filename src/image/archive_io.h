// Moving images in and out without a registry: `load` reads an OCI layout directory, an OCI
// archive or a `docker save` archive (tar, optionally compressed) into the image store;
// `save` writes images as an OCI archive that also carries docker's manifest.json.
#pragma once

#include <string>
#include <vector>

#include "image/manifest.h"
#include "store/image_store.h"

namespace zl {

struct LoadOptions {
  Platform platform = Platform::host();  // for multi-platform indexes
  // Repository for OCI entries that carry only a tag (org.opencontainers.image.ref.name = "1.0");
  // empty: "localhost/<input file or directory name>".
  std::string default_repository;
};

// Every blob is verified against its digest before it is used; on error nothing is tagged.
// Returns the references loaded.
Result<std::vector<std::string>> load_images(ImageStore& store, const fs::path& input, const LoadOptions& opts = {});
// The same from a stream: a tar (docker or OCI archive, optionally compressed), read once.
// Images named only by a tag go under opts.default_repository, else "localhost/image".
Result<std::vector<std::string>> load_images(ImageStore& store, const ReadFn& in, const LoadOptions& opts = {});

// Writes the named images (references or ids) into an OCI archive at `output` (atomically).
Status save_images(ImageStore& store, const std::vector<std::string>& names, const fs::path& output);
// The same archive as a stream (what `docker save` receives), written piece by piece to `out`.
Status write_images(ImageStore& store, const std::vector<std::string>& names, const WriteFn& out);

}  // namespace zl
