// Named volumes, docker's "local" driver: <root>/volumes/<name>/_data is what containers mount,
// <root>/volumes/<name>/volume.json what was asked at create (written once, atomically). A
// volume appears and disappears by one rename, so readers see it whole or not at all. Every
// change holds the store's lock (<root>/volumes/.lock), and so does a container create from
// resolving its volumes until its record is saved: a volume in use is never removed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/fs.h"

namespace zl {

// docker's label on the volumes it creates for `-v /path` (no name): `rm -v` and `run --rm`
// remove those with their container.
inline constexpr const char* kAnonymousVolumeLabel = "com.docker.volume.anonymous";

struct VolumeInfo {
  std::string name;
  std::string driver = "local";
  int64_t created_at = 0;  // unix nanoseconds
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // driver options, as given at create
  fs::path mountpoint;                         // <root>/volumes/<name>/_data

  bool anonymous() const { return labels.contains(kAnonymousVolumeLabel); }
};

struct VolumeCreateOptions {
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
};

struct VolumePruneReport {
  std::vector<std::string> removed;  // volume names
  uint64_t bytes_freed = 0;
};

class VolumeStore {
 public:
  // Volume name -> the containers using it (any state), computed under the store's lock.
  using Usage = std::function<Result<std::map<std::string, std::vector<std::string>>>()>;

  explicit VolumeStore(fs::path volumes_dir);

  // The exclusive lock every change takes. create(), remove() and prune() take it themselves: a
  // caller holding it uses the *_locked calls (flock is per open file: taking it twice deadlocks).
  Result<FileLock> lock() const;

  // Creates the volume; an existing one is returned as it is (docker's create is idempotent).
  // An invalid name -> invalid_argument.
  Result<VolumeInfo> create(const std::string& name, const VolumeCreateOptions& opts = {}) const;
  Result<VolumeInfo> create_locked(const std::string& name, const VolumeCreateOptions& opts = {},
                                   bool* created = nullptr) const;
  // not_found when there is no such volume.
  Result<VolumeInfo> inspect(const std::string& name) const;
  // By name.
  Result<std::vector<VolumeInfo>> list() const;
  // Removes the volume and its data. A volume any container uses -> conflict naming the
  // container, even with force (as docker); force only makes a missing volume no error.
  Status remove(const std::string& name, bool force, const Usage& usage) const;
  // Removes every volume no container uses.
  Result<VolumePruneReport> prune(const Usage& usage) const;

  // docker's copy-up, for a caller holding lock(): when the volume is empty and `path` (absolute,
  // resolved inside `rootfs` as the container would see it) is a directory, its content goes
  // into the volume with owners, modes, times, symlinks, hard links, devices and xattrs, and the
  // volume's top directory takes the owner and mode of `path`. Returns whether it copied; a
  // failed copy leaves the volume empty.
  Result<bool> copy_up_locked(const std::string& name, const fs::path& rootfs, const std::string& path) const;

  fs::path volume_dir(const std::string& name) const { return dir_ / name; }
  fs::path data_dir(const std::string& name) const { return dir_ / name / "_data"; }

 private:
  Result<VolumeInfo> load(const std::string& name) const;
  Status remove_locked(const std::string& name) const;

  fs::path dir_;
};

// docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 128 characters.
Status validate_volume_name(const std::string& name);
// A fresh random name for an anonymous or unnamed volume: 64 lowercase hex digits.
std::string new_volume_name();

}  // namespace zl
