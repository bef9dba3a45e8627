#include "controlplane/storage/sqlite_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"
#include "controlplane/storage/sqlite_schema.h"

namespace berth::controlplane::storage {

namespace {

// A new file's directory entry must be durable too, or a power loss could lose the whole file
// with its acknowledged writes (SQLite syncs the directory for its WAL, not for the database).
Status syncDirectory(const std::filesystem::path& dir) {
  auto fd = BERTH_TRY(openFd(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (::fsync(fd.get()) != 0) return failErrno(fmt::format("fsync {}", dir.string()));
  return {};
}

// Sets up a new file or checks an existing one; returns the connection the writer will use.
Result<SqliteDb> openWriterConnection(const std::filesystem::path& path) {
  // The store holds Secrets: 0600, made before SQLite would make it 0644. Its -wal and -shm
  // files take the database file's mode.
  BERTH_TRY(openFd(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  auto db = BERTH_TRY(SqliteDb::open(path, true));
  auto what = fmt::format("sqlite store {}", path.string());
  // auto_vacuum must be chosen before the first table exists; an existing file keeps its mode.
  auto tables = BERTH_TRY_CTX(db.queryInt("SELECT COUNT(*) FROM sqlite_schema"), what);
  if (tables == 0) BERTH_TRY_CTX(db.exec("PRAGMA auto_vacuum = INCREMENTAL"), what);
  auto mode = BERTH_TRY_CTX(db.prepare("PRAGMA journal_mode = WAL"), what);
  if (!BERTH_TRY_CTX(mode.step(), what) || mode.blob(0) != "wal") {
    return fail(Code::kFailedPrecondition, "{}: cannot switch to WAL mode", what);
  }
  mode = SqliteStatement();
  // FULL: in WAL mode the WAL is fsynced at every commit, so a commit survives power loss, not
  // only a process crash (NORMAL may lose the last commits on power loss). Group commit pays
  // one fsync per batch. journal_size_limit: the WAL is cut back after a checkpoint that reset
  // it, instead of keeping its largest size forever.
  BERTH_TRY_CTX(db.exec("PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 4194304;"), what);
  BERTH_TRY_CTX(db.exec(kCreateSchema), what);
  if (tables == 0) BERTH_TRY(syncDirectory(path.parent_path()));
  auto autoVacuum = BERTH_TRY_CTX(db.queryInt("PRAGMA auto_vacuum"), what);
  if (autoVacuum != 2) {
    // A file made without incremental vacuum (by hand, or an older layout): VACUUM converts it.
    BERTH_TRY_CTX(db.exec("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;"), what);
  }
  auto schema = BERTH_TRY(db.prepare(kSelectMeta));
  if (!BERTH_TRY_CTX(schema.start().bindText(1, kMetaSchema).step(), what) ||
      schema.int64(0) != kSchemaVersion) {
    return fail(Code::kDataLoss, "{}: not a store of schema version {}", what, kSchemaVersion);
  }
  return db;
}

Result<std::int64_t> fileSize(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return 0;
    return failErrno(fmt::format("stat {}", path.string()));
  }
  return static_cast<std::int64_t>(st.st_size);
}

}  // namespace

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::open(SqliteOptions options) {
  if (options.path.empty()) return fail(Code::kInvalidArgument, "sqlite store: no path");
  if (options.path.has_parent_path()) BERTH_TRY(makeDirs(options.path.parent_path(), 0700));
  auto lockPath = options.path;
  lockPath += ".lock";
  auto lock = FileLock::tryLock(lockPath);
  if (!lock) {
    return std::unexpected(std::move(lock).error().context(
        fmt::format("sqlite store {} (in use by another process?)", options.path.string())));
  }
  std::unique_ptr<SqliteBackend> backend(new SqliteBackend(options, std::move(*lock)));
  auto db = BERTH_TRY(openWriterConnection(options.path));
  // The first reader opens now, so a broken file fails open() rather than the first read.
  backend->readers_.push_back(
      std::make_unique<SqliteReader>(BERTH_TRY(SqliteReader::open(options.path))));
  auto* raw = backend.get();
  SqliteWriterOptions writerOptions;
  writerOptions.maxBatch = std::max<std::size_t>(options.maxBatch, 1);
  writerOptions.compactionInterval = options.compactionInterval;
  // The hub starts at the writer's revision; it is created after the writer reads it, and the
  // writer publishes nothing before a write arrives.
  auto writer = BERTH_TRY(SqliteWriter::start(
      std::move(db), writerOptions, [raw](std::vector<Event> events, std::int64_t revision) {
        raw->hub_->publish(std::move(events), revision);
      }));
  backend->hub_ = std::make_unique<WatchHub>(
      writer->revision(),
      [raw](std::string_view start, std::string_view end, std::int64_t after, std::int64_t upTo) {
        return raw->withReader(
            [&](SqliteReader& reader) { return reader.history(start, end, after, upTo); });
      });
  backend->writer_ = std::move(writer);
  return backend;
}

SqliteBackend::~SqliteBackend() {
  // The writer first: it publishes into the hub until it stops.
  writer_.reset();
  hub_.reset();
}

template <class F>
auto SqliteBackend::withReader(F&& f) -> decltype(f(std::declval<SqliteReader&>())) {
  std::unique_ptr<SqliteReader> reader;
  {
    std::lock_guard lock(readersMu_);
    if (!readers_.empty()) {
      reader = std::move(readers_.back());
      readers_.pop_back();
    }
  }
  if (!reader) {
    reader = std::make_unique<SqliteReader>(BERTH_TRY(SqliteReader::open(options_.path)));
  }
  auto result = f(*reader);
  std::lock_guard lock(readersMu_);
  readers_.push_back(std::move(reader));
  return result;
}

// The published revision, not the committed one: a watcher that asks for progress is told the
// hub's revision, which must reach what a caller saw here (WatchCache::waitForFresh).
Result<std::int64_t> SqliteBackend::currentRevision() {
  return hub_->revision();
}

Result<std::int64_t> SqliteBackend::compactedRevision() {
  return writer_->compacted();
}

Result<RangeResult> SqliteBackend::range(std::string_view start, std::string_view end,
                                         std::int64_t revision, std::int64_t limit) {
  // A single key is the range [key, key + "\0"): nothing sorts between the two.
  std::string single;
  if (end.empty()) {
    single = std::string(start) + '\0';
    end = single;
  }
  return withReader(
      [&](SqliteReader& reader) { return reader.range(start, end, revision, limit); });
}

Result<std::int64_t> SqliteBackend::count(std::string_view prefix) {
  std::string end = prefixEnd(prefix);
  return withReader([&](SqliteReader& reader) { return reader.count(prefix, end); });
}

Result<KeyValue> SqliteBackend::create(std::string_view key, std::string_view value) {
  if (key.empty()) return fail(Code::kInvalidArgument, "create: empty key");
  auto result = BERTH_TRY(writer_->write({WriteRequest::Kind::kCreate, key, value, 0}));
  if (!result.succeeded) return fail(Code::kAlreadyExists, "create {}: key exists", key);
  return std::move(*result.kv);
}

Result<TxnResult> SqliteBackend::update(std::string_view key, std::string_view value,
                                        std::int64_t expectedModRevision) {
  if (key.empty()) return fail(Code::kInvalidArgument, "update: empty key");
  return writer_->write({WriteRequest::Kind::kUpdate, key, value, expectedModRevision});
}

Result<TxnResult> SqliteBackend::remove(std::string_view key, std::int64_t expectedModRevision) {
  if (key.empty()) return fail(Code::kInvalidArgument, "remove: empty key");
  return writer_->write({WriteRequest::Kind::kRemove, key, {}, expectedModRevision});
}

Result<std::unique_ptr<WatchHandle>> SqliteBackend::watch(std::string_view prefix,
                                                          std::int64_t afterRevision,
                                                          WatchCallbacks callbacks) {
  return hub_->watch(prefix, afterRevision, std::move(callbacks));
}

Status SqliteBackend::compact(std::int64_t revision) {
  return writer_->compact(revision);
}

Result<std::int64_t> SqliteBackend::sizeBytes() {
  auto wal = options_.path;
  wal += "-wal";
  return BERTH_TRY(fileSize(options_.path)) + BERTH_TRY(fileSize(wal));
}

}  // namespace berth::controlplane::storage
