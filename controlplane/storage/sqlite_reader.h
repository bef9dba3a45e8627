#pragma once
// One read connection of the SQLite store and its prepared statements. Each call is one read
// transaction, so it sees one WAL snapshot: the revision, the compaction mark and the rows agree.
// Used by one thread at a time (SqliteBackend keeps a pool).
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controlplane/storage/backend.h"
#include "controlplane/storage/sqlite_db.h"

namespace berth::controlplane::storage {

class SqliteReader {
 public:
  [[nodiscard]] static Result<SqliteReader> open(const std::filesystem::path& path);

  // Backend::range; `end` already normalized (never empty).
  [[nodiscard]] Result<RangeResult> range(std::string_view start, std::string_view end,
                                          std::int64_t revision, std::int64_t limit);
  [[nodiscard]] Result<std::int64_t> count(std::string_view start, std::string_view end);
  // WatchHub::HistoryReader.
  [[nodiscard]] Result<std::vector<Event>> history(std::string_view start, std::string_view end,
                                                   std::int64_t after, std::int64_t upTo);

 private:
  struct Marks {
    std::int64_t revision = 0;
    std::int64_t compacted = 0;
  };
  SqliteReader() = default;
  // The marks of the snapshot the open read transaction reads.
  [[nodiscard]] Result<Marks> marks();
  [[nodiscard]] Result<std::int64_t> meta(std::string_view name);
  // Which range statement fits `end`: bounded or open ("\0").
  SqliteStatement& rangeStatement(std::string_view end, bool countOnly);

  SqliteDb db_;
  SqliteStatement begin_;
  SqliteStatement commit_;
  SqliteStatement meta_;
  SqliteStatement range_;
  SqliteStatement rangeOpen_;
  SqliteStatement count_;
  SqliteStatement countOpen_;
  SqliteStatement history_;
  SqliteStatement historyOpen_;
};

}  // namespace berth::controlplane::storage
