#include "controlplane/storage/sqlite_db.h"

namespace berth::controlplane::storage {

Result<SqliteDb> SqliteDb::open(const std::filesystem::path& path, bool create) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db(raw);  // owns the handle even when the open failed, as sqlite3_open_v2 wants
  if (rc != SQLITE_OK) {
    return std::unexpected(sqliteError(raw, rc, fmt::format("open sqlite {}", path.string())));
  }
  // Writers queue behind each other (the checkpointer, a reader's snapshot) instead of failing.
  sqlite3_busy_timeout(raw, 10'000);
  return db;
}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status SqliteDb::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  Error error = sqliteError(nullptr, rc, fmt::format("sqlite {}", sql));
  return std::unexpected(Error(error.code(), fmt::format("sqlite {}: {}", sql, text)));
}

Result<SqliteStatement> SqliteDb::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return std::unexpected(sqliteError(db_, rc, fmt::format("sqlite prepare {}", sql)));
  }
  return SqliteStatement(db_, stmt);
}

Result<std::int64_t> SqliteDb::queryInt(const char* sql) {
  auto stmt = BERTH_TRY(prepare(sql));
  if (!BERTH_TRY(stmt.step())) return fail(Code::kInternal, "sqlite {}: no row", sql);
  return stmt.int64(0);
}

}  // namespace berth::controlplane::storage
