#include "agent/state_db.h"

#include <chrono>

#include "common/fs.h"

namespace zl {

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS deployments (
  name TEXT PRIMARY KEY,
  file_name TEXT NOT NULL,
  spec_yaml TEXT NOT NULL,
  generation INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scale (
  deployment TEXT NOT NULL REFERENCES deployments(name) ON DELETE CASCADE,
  service TEXT NOT NULL,
  replicas INTEGER NOT NULL,
  PRIMARY KEY (deployment, service)
);
CREATE TABLE IF NOT EXISTS replica_counters (
  deployment TEXT NOT NULL REFERENCES deployments(name) ON DELETE CASCADE,
  service TEXT NOT NULL,
  replica INTEGER NOT NULL,
  restarts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (deployment, service, replica)
);
PRAGMA user_version = 1;
)sql";

DeploymentRecord read_deployment(const SqliteStatement& s) {
  return DeploymentRecord{.name = s.text(0),
                          .file_name = s.text(1),
                          .spec_yaml = s.text(2),
                          .generation = s.integer(3),
                          .created_at = s.integer(4),
                          .updated_at = s.integer(5)};
}

constexpr const char* kSelectDeployment =
    "SELECT name, file_name, spec_yaml, generation, created_at, updated_at FROM deployments";

}  // namespace

Result<std::unique_ptr<StateDb>> StateDb::open(const std::filesystem::path& file) {
  ZL_TRY(make_dirs(file.parent_path(), 0700));
  // SQLite takes an empty file for an empty database: a state db cut to nothing (and no WAL
  // that holds its content) would make the daemon forget, and then remove, every deployment.
  std::error_code ec;
  std::filesystem::path wal = file.string() + "-wal";
  if (std::filesystem::exists(file, ec) && std::filesystem::file_size(file, ec) == 0 && !ec &&
      (!std::filesystem::exists(wal, ec) || std::filesystem::file_size(wal, ec) == 0))
    return corrupt(
        "daemon state {} is empty: it was cut short (a crash, a full disk?); restore it from a backup, or move "
        "it away to start with no deployments",
        file.string());
  auto context = [&](Error e) { return tl::unexpected(std::move(e).wrap("daemon state " + file.string())); };
  auto db = SqliteDb::open(file);
  if (!db) return context(db.error());
  std::unique_ptr<StateDb> s(new StateDb(std::move(*db)));
  if (auto st = s->migrate(); !st) return context(st.error());
  return s;
}

Status StateDb::migrate() {
  ZL_TRY_ASSIGN(auto q, db_.prepare("PRAGMA user_version"));
  ZL_TRY(q.step());
  int64_t version = q.integer(0);
  if (version > 1)
    return unsupported("daemon state was written by a newer zlayer (schema version {}); this one knows 1",
                       version);
  ZL_TRY_ASSIGN(auto tx, SqliteTransaction::begin(db_));
  ZL_TRY(db_.exec(kSchema));
  return tx.commit();
}

Result<std::vector<DeploymentRecord>> StateDb::deployments() {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare(std::string(kSelectDeployment) + " ORDER BY name"));
  std::vector<DeploymentRecord> out;
  while (true) {
    ZL_TRY_ASSIGN(bool row, q.step());
    if (!row) return out;
    out.push_back(read_deployment(q));
  }
}

Result<std::optional<DeploymentRecord>> StateDb::deployment(const std::string& name) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare(std::string(kSelectDeployment) + " WHERE name = ?"));
  q.bind(1, name);
  ZL_TRY_ASSIGN(bool row, q.step());
  if (!row) return std::optional<DeploymentRecord>{};
  return std::optional<DeploymentRecord>{read_deployment(q)};
}

Result<DeploymentRecord> StateDb::put_deployment(const std::string& name, const std::string& file_name,
                                                 const std::string& yaml) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto tx, SqliteTransaction::begin(db_));
  int64_t now = now_ns();
  ZL_TRY_ASSIGN(auto up, db_.prepare(R"sql(
    INSERT INTO deployments (name, file_name, spec_yaml, generation, created_at, updated_at)
    VALUES (?1, ?2, ?3, 1, ?4, ?4)
    ON CONFLICT(name) DO UPDATE SET file_name = ?2, spec_yaml = ?3, generation = generation + 1, updated_at = ?4)sql"));
  ZL_TRY(up.bind(1, name).bind(2, file_name).bind(3, yaml).bind(4, now).run());
  ZL_TRY_ASSIGN(auto del, db_.prepare("DELETE FROM scale WHERE deployment = ?"));
  ZL_TRY(del.bind(1, name).run());
  ZL_TRY_ASSIGN(auto q, db_.prepare(std::string(kSelectDeployment) + " WHERE name = ?"));
  q.bind(1, name);
  ZL_TRY(q.step());
  auto rec = read_deployment(q);
  ZL_TRY(tx.commit());
  return rec;
}

Result<bool> StateDb::delete_deployment(const std::string& name) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare("DELETE FROM deployments WHERE name = ?"));
  ZL_TRY(q.bind(1, name).run());
  return sqlite3_changes(db_.handle()) > 0;
}

Result<std::map<std::string, int64_t>> StateDb::scale_overrides(const std::string& deployment) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare("SELECT service, replicas FROM scale WHERE deployment = ?"));
  q.bind(1, deployment);
  std::map<std::string, int64_t> out;
  while (true) {
    ZL_TRY_ASSIGN(bool row, q.step());
    if (!row) return out;
    out[q.text(0)] = q.integer(1);
  }
}

Status StateDb::set_scale(const std::string& deployment, const std::string& service, int64_t replicas) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare("INSERT INTO scale (deployment, service, replicas) VALUES (?1, ?2, ?3) "
                                    "ON CONFLICT(deployment, service) DO UPDATE SET replicas = ?3"));
  return q.bind(1, deployment).bind(2, service).bind(3, replicas).run();
}

Result<std::map<std::pair<std::string, int64_t>, ReplicaCounters>> StateDb::counters(
    const std::string& deployment) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(
      auto q,
      db_.prepare(
          "SELECT service, replica, restarts, last_error FROM replica_counters WHERE deployment = ?"));
  q.bind(1, deployment);
  std::map<std::pair<std::string, int64_t>, ReplicaCounters> out;
  while (true) {
    ZL_TRY_ASSIGN(bool row, q.step());
    if (!row) return out;
    out[{q.text(0), q.integer(1)}] = ReplicaCounters{.restarts = q.integer(2), .last_error = q.text(3)};
  }
}

Status StateDb::record_restart(const std::string& deployment, const std::string& service, int64_t replica,
                               const std::string& reason) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare(R"sql(
    INSERT INTO replica_counters (deployment, service, replica, restarts, last_error) VALUES (?1, ?2, ?3, 1, ?4)
    ON CONFLICT(deployment, service, replica) DO UPDATE SET restarts = restarts + 1, last_error = ?4)sql"));
  return q.bind(1, deployment).bind(2, service).bind(3, replica).bind(4, reason).run();
}

Status StateDb::reset_counters(const std::string& deployment, const std::string& service) {
  std::lock_guard lock(mu_);
  ZL_TRY_ASSIGN(auto q, db_.prepare("DELETE FROM replica_counters WHERE deployment = ? AND service = ?"));
  return q.bind(1, deployment).bind(2, service).run();
}

}  // namespace zl
