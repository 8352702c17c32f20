#include "common/sqlite.h"

namespace zl {

namespace {

tl::unexpected<Error> sqlite_error(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  ErrorKind kind = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ? ErrorKind::unavailable
                   : (code & 0xff) == SQLITE_CONSTRAINT                           ? ErrorKind::conflict
                   : (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB ? ErrorKind::corrupt
                                                                                       : ErrorKind::io;
  return make_error(kind, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

}  // namespace

Result<SqliteDb> SqliteDb::open(const std::filesystem::path& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  SqliteDb db(raw);
  if (rc != SQLITE_OK) {
    if (!raw) return io("open database {}: out of memory", path.string());
    return sqlite_error(raw, "open database " + path.string());
  }
  sqlite3_busy_timeout(raw, 5000);
  ZL_TRY(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  return db;
}

Status SqliteDb::exec(std::string_view sql) {
  std::string s(sql);
  char* msg = nullptr;
  if (sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    sqlite3_free(msg);
    return io("sqlite: {}: {}", s.substr(0, 60), m);
  }
  return {};
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK)
    return sqlite_error(db_.get(), fmt::format("prepare \"{}\"", sql));
  return SqliteStatement(s, std::string(sql));
}

SqliteStatement& SqliteStatement::bind(int pos, std::string_view text) {
  sqlite3_bind_text(stmt_.get(), pos, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

SqliteStatement& SqliteStatement::bind(int pos, int64_t v) {
  sqlite3_bind_int64(stmt_.get(), pos, v);
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int pos) {
  sqlite3_bind_null(stmt_.get(), pos);
  return *this;
}

Result<bool> SqliteStatement::step() {
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(sqlite3_db_handle(stmt_.get()), fmt::format("run \"{}\"", sql_));
}

Status SqliteStatement::run() {
  while (true) {
    ZL_TRY_ASSIGN(bool row, step());
    if (!row) return {};
  }
}

std::string SqliteStatement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_.get(), col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_.get(), col))) : std::string();
}

int64_t SqliteStatement::integer(int col) const {
  return sqlite3_column_int64(stmt_.get(), col);
}

bool SqliteStatement::is_null(int col) const {
  return sqlite3_column_type(stmt_.get(), col) == SQLITE_NULL;
}

Result<SqliteTransaction> SqliteTransaction::begin(SqliteDb& db) {
  ZL_TRY(db.exec("BEGIN IMMEDIATE"));
  return SqliteTransaction(&db);
}

SqliteTransaction::~SqliteTransaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status SqliteTransaction::commit() {
  ZL_TRY(db_->exec("COMMIT"));
  db_ = nullptr;
  return {};
}

}  // namespace zl
