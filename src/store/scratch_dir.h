// A directory of in-progress work (blob ingest files, layer unpack dirs). Each item is flocked
// by the process working on it, so clean() removes only what a crashed process left behind.
#pragma once

#include <string_view>
#include <utility>

#include "common/fs.h"

namespace zl {

// A temp directory plus the lock that marks it live. Members are destroyed in reverse order:
// the tree is removed before the lock is released.
struct LockedTempDir {
  UniqueFd lock;
  TempDir dir;
};

class ScratchDir {
 public:
  explicit ScratchDir(fs::path dir) : dir_(std::move(dir)) {}
  const fs::path& path() const { return dir_; }

  // Creates the directory and removes every item no live process holds a lock on.
  Status init() const;
  // A new file "<prefix>XXXXXX", open read-write and locked by the returned fd.
  Result<std::pair<fs::path, UniqueFd>> create_file(std::string_view prefix) const;
  // A new directory "<prefix>XXXXXX", removed with the returned object.
  Result<LockedTempDir> create_dir(std::string_view prefix) const;

 private:
  fs::path gate() const { return dir_ / ".gate"; }
  fs::path dir_;
};

}  // namespace zl
