#pragma once
// The one owner of a SQLite connection (closed in the destructor).
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>

#include "common/result.h"
#include "controlplane/storage/sqlite_statement.h"

namespace berth::controlplane::storage {

class SqliteDb {
 public:
  // Opens (creating when `create`) the database. NOMUTEX: each connection is used by one thread
  // at a time (the writer thread, or a reader taken from a pool), so SQLite's own lock is waste.
  [[nodiscard]] static Result<SqliteDb> open(const std::filesystem::path& path, bool create);

  SqliteDb() = default;
  SqliteDb(SqliteDb&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  sqlite3* get() const { return db_; }
  // Runs one or more statements that return nothing of interest.
  [[nodiscard]] Status exec(const char* sql);
  [[nodiscard]] Result<SqliteStatement> prepare(std::string_view sql);
  // A PRAGMA (or any query) whose first column of the first row is an integer.
  [[nodiscard]] Result<std::int64_t> queryInt(const char* sql);

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace berth::controlplane::storage
