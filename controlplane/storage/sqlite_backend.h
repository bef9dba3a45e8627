#pragma once
// The embedded store (berth-server's default): one SQLite file in WAL mode. One writer thread
// commits concurrent writes as one transaction each round (group commit) with synchronous=FULL,
// so an acknowledged write survives kill -9 and power loss; reads run on a pool of read
// connections, each on its own WAL snapshot. Watches are fed in-process from the writer (no
// polling), after a catch-up from the stored history. Compaction runs on a schedule and is
// followed by incremental vacuum, so the file stays bounded under churn.
//
// Files: <path> (the database), <path>-wal and <path>-shm (SQLite's WAL and its index),
// <path>.lock (flock: one process per store, since the revision counter lives in the writer).
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "common/file_lock.h"
#include "controlplane/storage/backend.h"
#include "controlplane/storage/sqlite_reader.h"
#include "controlplane/storage/sqlite_writer.h"
#include "controlplane/storage/watch_hub.h"

namespace berth::controlplane::storage {

struct SqliteOptions {
  std::filesystem::path path;
  // kube-apiserver compacts etcd every 5 minutes, keeping one interval of history for watches
  // that resume; the same here. Zero: only compact() compacts.
  std::chrono::milliseconds compactionInterval = std::chrono::minutes(5);
  std::size_t maxBatch = 512;  // writes per transaction at most
};

// For tests and the benchmark: how well group commit batches.
struct SqliteStats {
  std::int64_t writes = 0;   // writes committed
  std::int64_t commits = 0;  // write transactions (one fsync each)
};

class SqliteBackend final : public Backend {
 public:
  // Creates the file and its directory when missing. kFailedPrecondition when another process
  // has the store open, kDataLoss when the file is not a store of ours.
  [[nodiscard]] static Result<std::unique_ptr<SqliteBackend>> open(SqliteOptions options);
  ~SqliteBackend() override;

  Result<std::int64_t> currentRevision() override;
  Result<std::int64_t> compactedRevision() override;
  Result<RangeResult> range(std::string_view start, std::string_view end, std::int64_t revision,
                            std::int64_t limit) override;
  Result<std::int64_t> count(std::string_view prefix) override;
  Result<KeyValue> create(std::string_view key, std::string_view value) override;
  Result<TxnResult> update(std::string_view key, std::string_view value,
                           std::int64_t expectedModRevision) override;
  Result<TxnResult> remove(std::string_view key, std::int64_t expectedModRevision) override;
  Result<std::unique_ptr<WatchHandle>> watch(std::string_view prefix, std::int64_t afterRevision,
                                             WatchCallbacks callbacks) override;
  Status compact(std::int64_t revision) override;
  Result<std::int64_t> sizeBytes() override;

  SqliteStats stats() const { return {writer_->writes(), writer_->commits()}; }

 private:
  SqliteBackend(SqliteOptions options, FileLock lock)
      : options_(std::move(options)), lock_(std::move(lock)) {}
  // Runs f on a read connection from the pool (opening one when none is free).
  template <class F>
  auto withReader(F&& f) -> decltype(f(std::declval<SqliteReader&>()));

  SqliteOptions options_;
  FileLock lock_;
  std::mutex readersMu_;
  std::vector<std::unique_ptr<SqliteReader>> readers_;
  // Declared before the writer, which publishes into it: destroyed after it.
  std::unique_ptr<WatchHub> hub_;
  std::unique_ptr<SqliteWriter> writer_;
};

}  // namespace berth::controlplane::storage
