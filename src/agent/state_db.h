// The daemon's own state in SQLite (<root>/agent/state.db): the deployments it was asked to
// run (their spec text as given), scale changes made since, and per-replica restart counts.
// What actually runs is the container store's truth; this is only what is wanted.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/sqlite.h"

namespace zl {

struct DeploymentRecord {
  std::string name;
  std::string file_name;  // for error messages: where the spec came from
  std::string spec_yaml;
  int64_t generation = 0;                  // bumped by every apply
  int64_t created_at = 0, updated_at = 0;  // unix nanoseconds
};

struct ReplicaCounters {
  int64_t restarts = 0;
  std::string last_error;
};

class StateDb {
 public:
  static Result<std::unique_ptr<StateDb>> open(const std::filesystem::path& file);

  Result<std::vector<DeploymentRecord>> deployments();
  Result<std::optional<DeploymentRecord>> deployment(const std::string& name);
  // Inserts or replaces a deployment (generation + 1); scale changes made by hand are
  // dropped, as the new spec's replica counts are what was asked for now.
  Result<DeploymentRecord> put_deployment(const std::string& name, const std::string& file_name,
                                          const std::string& yaml);
  // Removes the deployment with its scale and counters; false when there was none.
  Result<bool> delete_deployment(const std::string& name);

  Result<std::map<std::string, int64_t>> scale_overrides(const std::string& deployment);
  Status set_scale(const std::string& deployment, const std::string& service, int64_t replicas);

  Result<std::map<std::pair<std::string, int64_t>, ReplicaCounters>> counters(const std::string& deployment);
  Status record_restart(const std::string& deployment, const std::string& service, int64_t replica,
                        const std::string& reason);
  Status reset_counters(const std::string& deployment, const std::string& service);

 private:
  explicit StateDb(SqliteDb db) : db_(std::move(db)) {}
  Status migrate();
  std::mutex mu_;
  SqliteDb db_;
};

}  // namespace zl
