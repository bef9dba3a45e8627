#include "controlplane/storage/sqlite_writer.h"

#include <algorithm>

#include "controlplane/storage/sqlite_schema.h"
#include "controlplane/storage/storage_log.h"

namespace berth::controlplane::storage {

namespace {

constexpr const char* kLatest =
    "SELECT rev, create_rev, deleted, value FROM kv WHERE key = ?1 ORDER BY rev DESC LIMIT 1";
constexpr const char* kInsert =
    "INSERT INTO kv (rev, key, create_rev, prev_rev, deleted, value) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
// A row at or below the target goes when a newer row of its key at or below the target replaces
// it, or when it is a tombstone (its key is gone as of the target). The newest value of every
// live key stays, and with it the prev row of every later event.
constexpr const char* kDeleteSuperseded =
    "DELETE FROM kv WHERE rev > ?1 AND rev <= ?2 AND (deleted = 1 OR EXISTS (SELECT 1 FROM kv AS "
    "n WHERE n.key = kv.key AND n.rev > kv.rev AND n.rev <= ?3))";

Error closedError() {
  return Error(Code::kUnavailable, "sqlite store closed");
}

}  // namespace

SqliteWriter::SqliteWriter(SqliteDb db, SqliteWriterOptions options, Publish publish)
    : db_(std::move(db)), options_(options), publish_(std::move(publish)) {}

Result<std::unique_ptr<SqliteWriter>> SqliteWriter::start(SqliteDb db, SqliteWriterOptions options,
                                                          Publish publish) {
  std::unique_ptr<SqliteWriter> w(new SqliteWriter(std::move(db), options, std::move(publish)));
  BERTH_TRY(w->prepare());
  w->thread_ = std::thread([raw = w.get()] { raw->run(); });
  return w;
}

Status SqliteWriter::prepare() {
  begin_ = BERTH_TRY(db_.prepare("BEGIN IMMEDIATE"));
  commit_ = BERTH_TRY(db_.prepare("COMMIT"));
  rollback_ = BERTH_TRY(db_.prepare("ROLLBACK"));
  latest_ = BERTH_TRY(db_.prepare(kLatest));
  insert_ = BERTH_TRY(db_.prepare(kInsert));
  updateMeta_ = BERTH_TRY(db_.prepare(kUpdateMeta));
  minRevision_ = BERTH_TRY(db_.prepare("SELECT IFNULL(MIN(rev), 0) FROM kv"));
  deleteSuperseded_ = BERTH_TRY(db_.prepare(kDeleteSuperseded));
  auto meta = BERTH_TRY(db_.prepare(kSelectMeta));
  for (auto [name, target] :
       {std::pair{kMetaRevision, &revision_}, {kMetaCompacted, &compacted_}}) {
    if (!BERTH_TRY(meta.start().bindText(1, name).step())) {
      return fail(Code::kDataLoss, "sqlite store: no meta row {}", name);
    }
    target->store(meta.int64(0));
  }
  meta.start();
  // A revision counter behind the newest row would hand out a revision twice.
  auto newest = BERTH_TRY(db_.queryInt("SELECT IFNULL(MAX(rev), 0) FROM kv"));
  revision_ = std::max(revision_.load(), newest);
  tickRevision_ = revision_;
  nextTick_ = std::chrono::steady_clock::now() + options_.compactionInterval;
  return {};
}

SqliteWriter::~SqliteWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Result<TxnResult> SqliteWriter::write(const WriteRequest& request) {
  std::future<Result<TxnResult>> done;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return std::unexpected(closedError());
    writes_.push_back(PendingWrite{&request, {}});
    done = writes_.back().done.get_future();
  }
  cv_.notify_one();
  return done.get();
}

Status SqliteWriter::compact(std::int64_t revision) {
  std::future<Status> done;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return std::unexpected(closedError());
    compacts_.push_back(PendingCompact{revision, {}});
    done = compacts_.back().done.get_future();
  }
  cv_.notify_one();
  return done.get();
}

void SqliteWriter::run() {
  std::unique_lock lock(mu_);
  while (true) {
    auto ready = [&] {
      return stopping_ || !writes_.empty() || !compacts_.empty() || job_.has_value();
    };
    if (options_.compactionInterval.count() > 0) {
      cv_.wait_until(lock, nextTick_, ready);
    } else {
      cv_.wait(lock, ready);
    }
    if (stopping_) break;
    std::vector<PendingWrite> batch;
    std::size_t n = std::min(writes_.size(), options_.maxBatch);
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      batch.push_back(std::move(writes_.front()));
      writes_.pop_front();
    }
    auto compacts = std::exchange(compacts_, {});
    lock.unlock();

    if (!batch.empty()) commitBatch(batch);
    for (auto& request : compacts)
      acceptCompact(std::move(request));
    auto now = std::chrono::steady_clock::now();
    if (options_.compactionInterval.count() > 0 && now >= nextTick_) {
      onTick();
      nextTick_ = now + options_.compactionInterval;
    }
    if (!job_ && !waiting_.empty()) {
      std::int64_t target = 0;
      for (const auto& request : waiting_)
        target = std::max(target, request.revision);
      startJob(target);
    }
    // One chunk per round, so writes queued meanwhile wait for one chunk, not the whole job.
    if (job_) compactionStep();
    lock.lock();
  }
  lock.unlock();
  failAll(closedError());
}

void SqliteWriter::failAll(const Error& error) {
  std::deque<PendingWrite> writes;
  std::deque<PendingCompact> compacts;
  {
    std::lock_guard lock(mu_);
    writes = std::exchange(writes_, {});
    compacts = std::exchange(compacts_, {});
  }
  for (auto& w : writes)
    w.done.set_value(std::unexpected(error));
  for (auto& c : compacts)
    c.done.set_value(std::unexpected(error));
  for (auto& c : waiting_)
    c.done.set_value(std::unexpected(error));
  waiting_.clear();
  if (job_) finishJob(std::unexpected(error));
}

void SqliteWriter::commitBatch(std::vector<PendingWrite>& batch) {
  std::int64_t revision = revision_;
  std::vector<TxnResult> outcomes;
  outcomes.reserve(batch.size());
  std::vector<Event> events;
  Status status = [&]() -> Status {
    BERTH_TRY(begin_.start().run());
    for (auto& w : batch)
      outcomes.push_back(BERTH_TRY(apply(*w.request, revision, events)));
    if (revision != revision_) {
      BERTH_TRY(updateMeta_.start().bindText(1, kMetaRevision).bind(2, revision).run());
    }
    // synchronous=FULL: the WAL is fsynced here, once for the whole batch.
    BERTH_TRY(commit_.start().run());
    return {};
  }();
  if (!status) {
    (void)rollback_.start().run();
    storageLog()->warn("sqlite write batch of {} failed: {}", batch.size(),
                       status.error().message());
    for (auto& w : batch)
      w.done.set_value(std::unexpected(status.error()));
    return;
  }
  revision_ = revision;
  writeCount_ += static_cast<std::int64_t>(batch.size());
  ++commitCount_;
  // Watchers hear of a write before its writer does, so a watch started from the revision a
  // client was just given never misses it.
  if (!events.empty()) publish_(std::move(events), revision);
  for (std::size_t i = 0; i < batch.size(); ++i)
    batch[i].done.set_value(std::move(outcomes[i]));
}

Result<TxnResult> SqliteWriter::apply(const WriteRequest& request, std::int64_t& revision,
                                      std::vector<Event>& events) {
  std::optional<KeyValue> current;
  {
    latest_.start().bindBlob(1, request.key);
    if (BERTH_TRY(latest_.step()) && latest_.int64(2) == 0) {
      current =
          KeyValue{std::string(request.key), latest_.blob(3), latest_.int64(1), latest_.int64(0)};
    }
    latest_.start();
  }
  using Kind = WriteRequest::Kind;
  if (request.kind == Kind::kCreate ? current.has_value() : !current.has_value()) {
    return TxnResult{false, std::move(current)};
  }
  if ((request.kind == Kind::kUpdate || request.expectedModRevision != 0) &&
      current->modRevision != request.expectedModRevision) {
    return TxnResult{false, std::move(current)};
  }
  std::int64_t next = revision + 1;
  std::int64_t createRevision = current ? current->createRevision : next;
  std::int64_t prevRevision = current ? current->modRevision : 0;
  bool remove = request.kind == Kind::kRemove;
  insert_.start().bind(1, next).bindBlob(2, request.key).bind(3, createRevision);
  insert_.bind(4, prevRevision).bind(5, remove ? 1 : 0);
  if (!remove) insert_.bindBlob(6, request.value);  // a tombstone's value stays NULL
  BERTH_TRY(insert_.run());
  revision = next;

  Event event;
  event.type = remove ? Event::Type::kDelete : Event::Type::kPut;
  // A delete reports the key's last value at the delete's revision.
  event.kv = KeyValue{std::string(request.key),
                      remove ? current->value : std::string(request.value), createRevision, next};
  event.prev = std::move(current);
  TxnResult result{true, event.kv};
  events.push_back(std::move(event));
  return result;
}

void SqliteWriter::acceptCompact(PendingCompact request) {
  if (request.revision <= compacted_) {
    request.done.set_value({});
    return;
  }
  if (request.revision > revision_) {
    request.done.set_value(fail(Code::kInvalidArgument,
                                "compact: revision {} is newer than the store's {}",
                                request.revision, revision_.load()));
    return;
  }
  if (job_ && request.revision <= job_->target) {
    job_->waiters.push_back(std::move(request.done));
    return;
  }
  waiting_.push_back(std::move(request));
}

void SqliteWriter::onTick() {
  std::int64_t target = std::exchange(tickRevision_, revision_.load());
  if (target > compacted_ && !job_ && waiting_.empty()) startJob(target);
}

void SqliteWriter::startJob(std::int64_t target) {
  Job job;
  job.target = target;
  for (auto& request : waiting_)
    job.waiters.push_back(std::move(request.done));
  waiting_.clear();
  auto oldest = [&]() -> Result<std::int64_t> {
    auto reset = minRevision_.start().step();
    if (!reset) return std::unexpected(reset.error());
    std::int64_t value = minRevision_.int64(0);
    minRevision_.start();
    return value;
  }();
  if (!oldest) {
    job_ = std::move(job);
    finishJob(std::unexpected(oldest.error().context("compact")));
    return;
  }
  job.next = *oldest - 1;
  job_ = std::move(job);
}

void SqliteWriter::compactionStep() {
  if (job_->deleting) {
    if (auto status = deleteChunk(); !status) {
      finishJob(std::unexpected(status.error().context(fmt::format("compact {}", job_->target))));
    }
    return;
  }
  auto more = vacuumStep();
  if (!more) {
    storageLog()->warn("sqlite incremental vacuum: {}", more.error().message());
  } else if (*more) {
    return;
  }
  checkpoint();
  finishJob({});
}

Status SqliteWriter::deleteChunk() {
  Job& job = *job_;
  std::int64_t hi = std::min(job.next + options_.compactionChunk, job.target);
  Status status = [&]() -> Status {
    BERTH_TRY(begin_.start().run());
    // The mark goes first, in the first chunk's transaction: a reader sees either the old mark
    // with every row, or the new one and an OutOfRange for what may be gone.
    if (!job.marked) {
      BERTH_TRY(updateMeta_.start().bindText(1, kMetaCompacted).bind(2, job.target).run());
    }
    BERTH_TRY(deleteSuperseded_.start().bind(1, job.next).bind(2, hi).bind(3, job.target).run());
    BERTH_TRY(commit_.start().run());
    return {};
  }();
  if (!status) {
    (void)rollback_.start().run();
    return status;
  }
  if (!job.marked) {
    job.marked = true;
    compacted_ = std::max(compacted_.load(), job.target);
  }
  job.next = hi;
  if (job.next >= job.target) job.deleting = false;
  return {};
}

Result<bool> SqliteWriter::vacuumStep() {
  auto freePages = BERTH_TRY(db_.queryInt("PRAGMA freelist_count"));
  if (freePages == 0) return false;
  // Start only when a quarter of the file is free (pages are reused anyway, and moving pages
  // costs writes); once started, give back every free page.
  if (!job_->vacuuming) {
    auto pages = BERTH_TRY(db_.queryInt("PRAGMA page_count"));
    if (freePages * 4 < pages) return false;
    job_->vacuuming = true;
  }
  auto sql = fmt::format("PRAGMA incremental_vacuum({})", options_.vacuumStep);
  auto stmt = BERTH_TRY(db_.prepare(sql));
  BERTH_TRY(stmt.run());
  return true;
}

void SqliteWriter::checkpoint() {
  // TRUNCATE waits for readers to move to the newest snapshot; ours are short, and a long one
  // only costs this round's truncation (the WAL is reused and journal_size_limit bounds it).
  sqlite3_busy_timeout(db_.get(), 100);
  int rc =
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_busy_timeout(db_.get(), 10'000);
  if (rc != SQLITE_OK) {
    storageLog()->debug("sqlite checkpoint: {}", sqliteError(db_.get(), rc, "wal").message());
  }
}

void SqliteWriter::finishJob(const Status& status) {
  for (auto& waiter : job_->waiters)
    waiter.set_value(status);
  if (!status) storageLog()->warn("sqlite compaction: {}", status.error().message());
  job_.reset();
}

}  // namespace berth::controlplane::storage
