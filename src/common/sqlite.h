// A thin RAII layer over SQLite: a connection, prepared statements with typed binds, and
// transactions that roll back unless committed. Errors carry the statement and SQLite's text.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace zl {

class SqliteStatement;

class SqliteDb {
 public:
  // Opens (creating) the database in WAL mode with full sync: a committed transaction
  // survives a crash of the process or the machine.
  static Result<SqliteDb> open(const std::filesystem::path& path);
  SqliteDb(SqliteDb&&) noexcept = default;
  SqliteDb& operator=(SqliteDb&&) noexcept = default;

  Status exec(std::string_view sql);  // one or more statements without parameters
  Result<SqliteStatement> prepare(std::string_view sql);
  sqlite3* handle() const { return db_.get(); }

 private:
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  std::unique_ptr<sqlite3, Close> db_;
};

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&&) noexcept = default;
  SqliteStatement& operator=(SqliteStatement&&) noexcept = default;

  // Binds by 1-based position; returns *this for chaining.
  SqliteStatement& bind(int pos, std::string_view text);
  SqliteStatement& bind(int pos, int64_t v);
  SqliteStatement& bind_null(int pos);
  // Steps once: true while a row is ready, false when done.
  Result<bool> step();
  // Runs to completion (for statements without result rows).
  Status run();
  std::string text(int col) const;
  int64_t integer(int col) const;
  bool is_null(int col) const;

 private:
  friend class SqliteDb;
  struct Finalize {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  SqliteStatement(sqlite3_stmt* s, std::string sql) : stmt_(s), sql_(std::move(sql)) {}
  std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
  std::string sql_;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back if destroyed before commit().
class SqliteTransaction {
 public:
  static Result<SqliteTransaction> begin(SqliteDb& db);
  SqliteTransaction(SqliteTransaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  ~SqliteTransaction();
  Status commit();

 private:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
};

}  // namespace zl
