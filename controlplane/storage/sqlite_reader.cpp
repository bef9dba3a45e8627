#include "controlplane/storage/sqlite_reader.h"

#include "common/scope_guard.h"
#include "controlplane/storage/sqlite_schema.h"

namespace berth::controlplane::storage {

namespace {

bool openEnded(std::string_view end) {
  return end == std::string_view("\0", 1);
}

// The newest row of each key at or below ?3, SQLite's bare-column rule taking the other columns
// from the row that holds MAX(rev); tombstones dropped after the grouping.
constexpr const char* kRangeBounded =
    "SELECT key, value, create_rev, rev FROM (SELECT key, value, create_rev, MAX(rev) AS rev, "
    "deleted FROM kv WHERE key >= ?1 AND key < ?2 AND rev <= ?3 GROUP BY key) WHERE deleted = 0 "
    "ORDER BY key LIMIT ?4";
constexpr const char* kRangeOpen =
    "SELECT key, value, create_rev, rev FROM (SELECT key, value, create_rev, MAX(rev) AS rev, "
    "deleted FROM kv WHERE key >= ?1 AND rev <= ?3 GROUP BY key) WHERE deleted = 0 "
    "ORDER BY key LIMIT ?4";
constexpr const char* kCountBounded =
    "SELECT COUNT(*) FROM (SELECT MAX(rev), deleted FROM kv WHERE key >= ?1 AND key < ?2 "
    "GROUP BY key) WHERE deleted = 0";
constexpr const char* kCountOpen =
    "SELECT COUNT(*) FROM (SELECT MAX(rev), deleted FROM kv WHERE key >= ?1 GROUP BY key) "
    "WHERE deleted = 0";
// Every row in (?1, ?2] with the row it replaced (prev_rev), for watch events with prev values.
constexpr const char* kHistoryBounded =
    "SELECT e.rev, e.key, e.create_rev, e.deleted, e.value, p.rev, p.value, p.create_rev "
    "FROM kv AS e LEFT JOIN kv AS p ON p.rev = e.prev_rev "
    "WHERE e.rev > ?1 AND e.rev <= ?2 AND e.key >= ?3 AND e.key < ?4 ORDER BY e.rev";
constexpr const char* kHistoryOpen =
    "SELECT e.rev, e.key, e.create_rev, e.deleted, e.value, p.rev, p.value, p.create_rev "
    "FROM kv AS e LEFT JOIN kv AS p ON p.rev = e.prev_rev "
    "WHERE e.rev > ?1 AND e.rev <= ?2 AND e.key >= ?3 ORDER BY e.rev";

}  // namespace

Result<SqliteReader> SqliteReader::open(const std::filesystem::path& path) {
  SqliteReader r;
  r.db_ = BERTH_TRY(SqliteDb::open(path, false));
  r.begin_ = BERTH_TRY(r.db_.prepare("BEGIN"));
  r.commit_ = BERTH_TRY(r.db_.prepare("COMMIT"));
  r.meta_ = BERTH_TRY(r.db_.prepare(kSelectMeta));
  r.range_ = BERTH_TRY(r.db_.prepare(kRangeBounded));
  r.rangeOpen_ = BERTH_TRY(r.db_.prepare(kRangeOpen));
  r.count_ = BERTH_TRY(r.db_.prepare(kCountBounded));
  r.countOpen_ = BERTH_TRY(r.db_.prepare(kCountOpen));
  r.history_ = BERTH_TRY(r.db_.prepare(kHistoryBounded));
  r.historyOpen_ = BERTH_TRY(r.db_.prepare(kHistoryOpen));
  return r;
}

Result<std::int64_t> SqliteReader::meta(std::string_view name) {
  meta_.start().bindText(1, name);
  if (!BERTH_TRY(meta_.step())) return fail(Code::kDataLoss, "sqlite store: no meta row {}", name);
  std::int64_t value = meta_.int64(0);
  meta_.start();
  return value;
}

Result<SqliteReader::Marks> SqliteReader::marks() {
  return Marks{BERTH_TRY(meta(kMetaRevision)), BERTH_TRY(meta(kMetaCompacted))};
}

SqliteStatement& SqliteReader::rangeStatement(std::string_view end, bool countOnly) {
  if (countOnly) return openEnded(end) ? countOpen_ : count_;
  return openEnded(end) ? rangeOpen_ : range_;
}

Result<RangeResult> SqliteReader::range(std::string_view start, std::string_view end,
                                        std::int64_t revision, std::int64_t limit) {
  BERTH_TRY(begin_.start().run());
  auto done = defer([&] { (void)commit_.start().run(); });
  Marks marks = BERTH_TRY(this->marks());
  if (revision <= 0) revision = marks.revision;
  if (revision > marks.revision) {
    return fail(Code::kInvalidArgument, "revision {} is newer than the store's {}", revision,
                marks.revision);
  }
  if (revision < marks.compacted) {
    return fail(Code::kOutOfRange, "revision {} is compacted (oldest available: {})", revision,
                marks.compacted);
  }
  RangeResult result;
  result.revision = revision;
  SqliteStatement& stmt = rangeStatement(end, false);
  auto reset = defer([&] { stmt.start(); });
  stmt.start().bindBlob(1, start).bindBlob(2, end).bind(3, revision);
  // One more row than asked tells whether the limit cut the range short.
  stmt.bind(4, limit > 0 ? limit + 1 : -1);
  while (BERTH_TRY(stmt.step())) {
    if (limit > 0 && static_cast<std::int64_t>(result.kvs.size()) == limit) {
      result.more = true;
      break;
    }
    result.kvs.push_back(KeyValue{stmt.blob(0), stmt.blob(1), stmt.int64(2), stmt.int64(3)});
  }
  return result;
}

Result<std::int64_t> SqliteReader::count(std::string_view start, std::string_view end) {
  SqliteStatement& stmt = rangeStatement(end, true);
  auto reset = defer([&] { stmt.start(); });
  stmt.start().bindBlob(1, start);
  if (!openEnded(end)) stmt.bindBlob(2, end);
  if (!BERTH_TRY(stmt.step())) return 0;
  return stmt.int64(0);
}

Result<std::vector<Event>> SqliteReader::history(std::string_view start, std::string_view end,
                                                 std::int64_t after, std::int64_t upTo) {
  BERTH_TRY(begin_.start().run());
  auto done = defer([&] { (void)commit_.start().run(); });
  Marks marks = BERTH_TRY(this->marks());
  if (after < marks.compacted) {
    return fail(Code::kOutOfRange, "revision {} is compacted (oldest available: {})", after,
                marks.compacted);
  }
  std::vector<Event> events;
  SqliteStatement& stmt = openEnded(end) ? historyOpen_ : history_;
  auto reset = defer([&] { stmt.start(); });
  stmt.start().bind(1, after).bind(2, upTo).bindBlob(3, start);
  if (!openEnded(end)) stmt.bindBlob(4, end);
  while (BERTH_TRY(stmt.step())) {
    Event event;
    std::string key = stmt.blob(1);
    bool deleted = stmt.int64(3) != 0;
    if (!stmt.isNull(5)) {
      event.prev = KeyValue{key, stmt.blob(6), stmt.int64(7), stmt.int64(5)};
    }
    event.type = deleted ? Event::Type::kDelete : Event::Type::kPut;
    // A delete carries the key's last value, at the delete's revision.
    std::string value = deleted ? (event.prev ? event.prev->value : std::string()) : stmt.blob(4);
    event.kv = KeyValue{std::move(key), std::move(value), stmt.int64(2), stmt.int64(0)};
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace berth::controlplane::storage
