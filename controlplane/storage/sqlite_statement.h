#pragma once
// The one owner of a prepared SQLite statement (finalized in the destructor). Keys and values are
// bound and read as BLOBs, so they compare bytewise as etcd's keys do (a TEXT never compares
// equal to a BLOB, so every key goes through bindBlob).
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace berth::controlplane::storage {

// An Error from a SQLite result code: "<what>: <sqlite's message>" with a code a caller can act
// on (kUnavailable for busy/locked/io, kDataLoss for a corrupt file, kResourceExhausted when full).
Error sqliteError(sqlite3* db, int rc, std::string_view what);

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& o) noexcept
      : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), bindRc_(o.bindRc_) {}
  SqliteStatement& operator=(SqliteStatement&& o) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Resets the statement and clears its bindings: every use starts with it.
  SqliteStatement& start();
  // 1-based, as sqlite3_bind_*. A failed bind is reported by the next step().
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bindBlob(int index, std::string_view value);
  SqliteStatement& bindText(int index, std::string_view value);
  // true: a row is ready; false: done.
  [[nodiscard]] Result<bool> step();
  // Runs a statement that returns no rows (or whose rows are ignored) to completion.
  [[nodiscard]] Status run();

  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string blob(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bindRc_ = SQLITE_OK;
};

}  // namespace berth::controlplane::storage
