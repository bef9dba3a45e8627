#include "controlplane/storage/sqlite_statement.h"

namespace berth::controlplane::storage {

Error sqliteError(sqlite3* db, int rc, std::string_view what) {
  Code code = Code::kInternal;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      code = Code::kUnavailable;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = Code::kDataLoss;
      break;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      code = Code::kResourceExhausted;
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      code = Code::kPermissionDenied;
      break;
    default:
      break;
  }
  // sqlite3_errmsg describes the connection's last error, which may be a later one than rc when
  // the caller ran something in between; sqlite3_errstr(rc) always matches rc.
  const char* message =
      db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(code, fmt::format("{}: {}", what, message));
}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = std::exchange(o.stmt_, nullptr);
    bindRc_ = o.bindRc_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

SqliteStatement& SqliteStatement::start() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bindRc_ = SQLITE_OK;
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::bindBlob(int index, std::string_view value) {
  // A zero-length blob, not NULL, for an empty value: the column is NOT NULL for keys. The
  // caller keeps the bytes alive until the statement is done with them (SQLITE_STATIC).
  int rc = sqlite3_bind_blob64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                               SQLITE_STATIC);
  if (bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::bindText(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (bindRc_ == SQLITE_OK) bindRc_ = rc;
  return *this;
}

Result<bool> SqliteStatement::step() {
  if (bindRc_ != SQLITE_OK) return std::unexpected(sqliteError(db_, bindRc_, "sqlite bind"));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(sqliteError(db_, rc, fmt::format("sqlite {}", sqlite3_sql(stmt_))));
}

Status SqliteStatement::run() {
  while (BERTH_TRY(step())) {
  }
  return {};
}

std::string SqliteStatement::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

}  // namespace berth::controlplane::storage
