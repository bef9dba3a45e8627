#pragma once
// The SQLite store's layout. One row per revision: a put stores the value, a delete a tombstone
// (deleted = 1, no value); prev_rev points at the row the write replaced (0 for a create), so
// watch events carry the previous value. Compaction deletes rows that a newer row at or below the
// compaction revision supersedes, and tombstones at or below it; meta holds the revision counter
// (the newest row may be a compacted tombstone) and the compaction mark.
//
//   kv(rev INTEGER PRIMARY KEY, key BLOB, create_rev, prev_rev, deleted, value BLOB)
//     index kv_key_rev(key, rev): a key's newest row, ranges by key
//   meta(name TEXT PRIMARY KEY, value INTEGER): schema, revision, compacted
namespace berth::controlplane::storage {

inline constexpr int kSchemaVersion = 1;
inline constexpr const char* kMetaSchema = "schema";
inline constexpr const char* kMetaRevision = "revision";
inline constexpr const char* kMetaCompacted = "compacted";

inline constexpr const char* kCreateSchema =
    "CREATE TABLE IF NOT EXISTS kv (rev INTEGER PRIMARY KEY, key BLOB NOT NULL, "
    "create_rev INTEGER NOT NULL, prev_rev INTEGER NOT NULL, deleted INTEGER NOT NULL, "
    "value BLOB);"
    "CREATE INDEX IF NOT EXISTS kv_key_rev ON kv (key, rev);"
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) "
    "WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', 1), ('revision', 0), "
    "('compacted', 0);";

inline constexpr const char* kSelectMeta = "SELECT value FROM meta WHERE name = ?1";
inline constexpr const char* kUpdateMeta = "UPDATE meta SET value = ?2 WHERE name = ?1";

}  // namespace berth::controlplane::storage
