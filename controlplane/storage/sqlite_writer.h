#pragma once
// The one writer of the SQLite store: a thread that takes every write queued since its last
// commit and commits them as one transaction (group commit: 16 concurrent clients share one
// fsync, not 16), then publishes the committed events and answers the callers. Between write
// batches it runs compaction (scheduled, as kube-apiserver compacts etcd, or asked for) in
// chunks, then incremental vacuum and a WAL checkpoint, so the file gives back what compaction
// freed instead of staying at its high-water mark (k3s' kine never vacuums).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "controlplane/storage/backend.h"
#include "controlplane/storage/sqlite_db.h"

namespace berth::controlplane::storage {

struct SqliteWriterOptions {
  std::size_t maxBatch = 512;
  // Every interval, compact to the revision the previous tick saw: between one and two intervals
  // of history stay, as kube-apiserver's etcd compactor keeps. Zero: only compact() compacts.
  std::chrono::milliseconds compactionInterval{0};
  std::int64_t compactionChunk = 10'000;  // revisions examined per compaction transaction
  std::int64_t vacuumStep = 1024;         // pages per incremental_vacuum step
};

struct WriteRequest {
  enum class Kind { kCreate, kUpdate, kRemove };
  Kind kind = Kind::kCreate;
  std::string_view key;
  std::string_view value;
  std::int64_t expectedModRevision = 0;  // kUpdate; kRemove (0: any)
};

class SqliteWriter {
 public:
  // Called on the writer thread after each commit with its events, in revision order.
  using Publish = std::function<void(std::vector<Event>, std::int64_t revision)>;

  // Takes the connection the schema was set up on (synchronous=FULL already set).
  [[nodiscard]] static Result<std::unique_ptr<SqliteWriter>> start(SqliteDb db,
                                                                   SqliteWriterOptions options,
                                                                   Publish publish);
  // Fails what is still queued with kUnavailable and stops the thread.
  ~SqliteWriter();
  SqliteWriter(const SqliteWriter&) = delete;
  SqliteWriter& operator=(const SqliteWriter&) = delete;

  // Blocks until the write is durable or failed. A failed precondition (create of an existing
  // key, a stale or absent update/remove) is a TxnResult that did not succeed, with the key as
  // it is now.
  [[nodiscard]] Result<TxnResult> write(const WriteRequest& request);
  // Blocks until history at or below `revision` is gone and the file vacuumed.
  [[nodiscard]] Status compact(std::int64_t revision);

  std::int64_t revision() const { return revision_.load(); }
  std::int64_t compacted() const { return compacted_.load(); }
  // Writes answered by a commit, and the write transactions that carried them.
  std::int64_t writes() const { return writeCount_.load(); }
  std::int64_t commits() const { return commitCount_.load(); }

 private:
  struct PendingWrite {
    const WriteRequest* request;
    std::promise<Result<TxnResult>> done;
  };
  struct PendingCompact {
    std::int64_t revision;
    std::promise<Status> done;
  };
  // A compaction in progress: deleting superseded rows chunk by chunk, then vacuuming.
  struct Job {
    std::int64_t target = 0;
    std::int64_t next = 0;  // rows above it and at or below target remain to examine
    bool marked = false;    // meta.compacted set to target
    bool deleting = true;
    bool vacuuming = false;
    std::vector<std::promise<Status>> waiters;
  };

  SqliteWriter(SqliteDb db, SqliteWriterOptions options, Publish publish);
  [[nodiscard]] Status prepare();
  void run();
  void commitBatch(std::vector<PendingWrite>& batch);
  [[nodiscard]] Result<TxnResult> apply(const WriteRequest& request, std::int64_t& revision,
                                        std::vector<Event>& events);
  void acceptCompact(PendingCompact request);
  void onTick();
  void startJob(std::int64_t target);
  void compactionStep();
  [[nodiscard]] Status deleteChunk();
  [[nodiscard]] Result<bool> vacuumStep();
  void checkpoint();
  void finishJob(const Status& status);
  void failAll(const Error& error);

  SqliteDb db_;
  SqliteWriterOptions options_;
  Publish publish_;
  SqliteStatement begin_;
  SqliteStatement commit_;
  SqliteStatement rollback_;
  SqliteStatement latest_;
  SqliteStatement insert_;
  SqliteStatement updateMeta_;
  SqliteStatement minRevision_;
  SqliteStatement deleteSuperseded_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingWrite> writes_;
  std::deque<PendingCompact> compacts_;
  bool stopping_ = false;

  std::atomic<std::int64_t> revision_{0};
  std::atomic<std::int64_t> compacted_{0};
  std::atomic<std::int64_t> writeCount_{0};
  std::atomic<std::int64_t> commitCount_{0};

  // Writer thread only.
  std::optional<Job> job_;
  std::deque<PendingCompact> waiting_;  // compactions beyond the running job's target
  std::int64_t tickRevision_ = 0;
  std::chrono::steady_clock::time_point nextTick_;

  std::thread thread_;
};

}  // namespace berth::controlplane::storage
