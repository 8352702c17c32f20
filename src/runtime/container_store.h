// Containers on disk, the single truth about them: <root>/containers/<id>/ holds container.json
// (what was asked and resolved at create, written once), state.json (start/stop bookkeeping)
// and, for a container the agent health-checks, health.json, all written atomically;
// <root>/containers/names/<name> is a symlink to the id, which makes name reservation atomic.
// Every change to one container holds its lock file.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/container.h"

namespace zl {

// Written once at create.
struct ContainerRecord {
  std::string id, name, image, image_id;
  ContainerSpec spec;
  std::vector<std::string> command;
  int64_t created_at = 0;
  std::string cgroups_path;
  std::string oci_runtime;
  std::vector<fs::path> lower_dirs;  // the image layers under the rootfs overlay
};

// Changed as the container runs.
struct ContainerRunState {
  int64_t started_at = 0;
  int64_t finished_at = 0;
  std::optional<ExitInfo> exit;  // cached once read from conmon's exit file
  int restart_count = 0;
};

class ContainerStore {
 public:
  explicit ContainerStore(fs::path containers_dir);
  Status init() const;  // creates the directories (on first create)

  ContainerPaths paths(const std::string& id) const { return ContainerPaths{dir_ / id}; }
  // Id, unique id prefix (>= 3 chars) or name -> id. not_found / invalid_argument (ambiguous).
  Result<std::string> resolve(const std::string& ref) const;
  Result<std::vector<std::string>> ids() const;

  Result<ContainerRecord> load(const std::string& id) const;
  Status save(const ContainerRecord& rec) const;
  Result<ContainerRunState> load_state(const std::string& id) const;
  Status save_state(const std::string& id, const ContainerRunState& st) const;
  // health.json: what the container's supervisor last judged (nullopt when nothing checks it, or
  // when a crash left the file unreadable: it is written again at the next change).
  std::optional<ContainerHealth> load_health(const std::string& id) const;
  // Atomic, not durable: after a crash the supervisor probes again anyway.
  Status save_health(const std::string& id, const ContainerHealth& h) const;

  // Deletes the container's directory: first renamed out of sight (so every other command sees
  // the container either whole or gone), then removed. Leftovers of a crash go at sweep().
  Status discard(const std::string& id) const;
  // What a crash in discard() or teardown left: half-removed directories, and names whose
  // container directory is gone. (init() sweeps too.)
  void sweep() const;

  // conflict when the name is taken by another container.
  Status reserve_name(const std::string& name, const std::string& id) const;
  void release_name(const std::string& name, const std::string& id) const;

  // A create that crashed: the container's directory has a lock file nobody holds and no record
  // (a create holds its lock from right after making the directory, before it reserves the name,
  // until the record is saved), and was last changed `min_age_s` or more seconds ago (between
  // mkdir and its lock, a live create's directory looks the same for a moment).
  bool interrupted_create(const std::string& id, int min_age_s = 0) const;

  // Exclusive lock on one container, for any change to it.
  Result<FileLock> lock(const std::string& id) const;

 private:
  // A name a rename that crashed left pointing at `owner`: its record has another name now,
  // and no rename holds its lock.
  bool renamed_away(const std::string& owner, const std::string& name) const;

  fs::path dir_;
};

// A fresh random container id: 64 lowercase hex digits.
std::string new_container_id();
// docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+
Status validate_container_name(const std::string& name);

}  // namespace zl
