// Content-addressed blob store: <root>/blobs/sha256/<hex>. A blob only ever appears under
// its digest name after its bytes were hashed and matched; writes go through <root>/ingest
// and an atomic rename, so a crash never leaves a half blob under a digest name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/fs.h"

namespace zl {

class BlobWriter;

class ContentStore {
 public:
  explicit ContentStore(fs::path root);
  Status init();  // creates the directories, clears stale ingest files

  const fs::path& root() const { return root_; }
  fs::path blob_path(const Digest& d) const;
  bool has(const Digest& d) const;
  Result<uint64_t> size(const Digest& d) const;
  Result<std::string> read(const Digest& d) const;   // whole blob in memory (manifests, configs)
  Result<Digest> put(std::string_view data);          // hashes, stores, returns the digest
  Status put_verified(std::string_view data, const Digest& expected);  // corrupt on mismatch
  // Streaming write of a blob that must hash to `expected` (and have `expected_size` bytes if given).
  Result<BlobWriter> writer(const Digest& expected, std::optional<uint64_t> expected_size = {});
  Status remove(const Digest& d);
  Result<std::vector<Digest>> list() const;
  Status verify(const Digest& d) const;  // re-hash the stored bytes

 private:
  fs::path root_;
};

// A blob being written. Destroyed without commit(): its temp file is removed.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();
  Status write(std::string_view data);
  uint64_t written() const { return written_; }
  // Checks size and digest, fsyncs and renames into place. corrupt on mismatch (temp removed).
  Status commit();
  // Throws away what was written so far (for a retried download that cannot resume).
  Status reset();

 private:
  friend class ContentStore;
  BlobWriter(fs::path tmp, fs::path dest, Digest expected, std::optional<uint64_t> size, UniqueFd fd);
  fs::path tmp_, dest_;
  Digest expected_;
  std::optional<uint64_t> expected_size_;
  UniqueFd fd_;
  Sha256 hash_;
  uint64_t written_ = 0;
};

}  // namespace zl
