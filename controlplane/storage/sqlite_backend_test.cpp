// The SQLite backend: the conformance suite, and what only the embedded store promises (no
// acknowledged write lost to kill -9, the same revisions after a reopen, a bounded file under
// churn, scheduled compaction, group commit, one process per file).
#include "controlplane/storage/sqlite_backend.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "controlplane/storage/backend_conformance.h"
#include "controlplane/storage/storage_workload.h"

namespace berth::controlplane::storage::testing {
namespace {

using berth::testing::TempDir;

BackendFactory sqliteFactory() {
  // Each test gets a new file; the directories outlive the backends (removed at exit).
  static std::vector<std::unique_ptr<TempDir>> dirs;
  return BackendFactory{
      "Sqlite",
      []() -> Result<std::unique_ptr<Backend>> {
        dirs.push_back(std::make_unique<TempDir>("berth-sqlite"));
        return BERTH_TRY(SqliteBackend::open({.path = dirs.back()->path() / "state.db"}));
      },
      {}};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, BackendConformance, ::testing::Values(sqliteFactory()),
                         printFactoryName);

class SqliteBackendTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteBackend> open(SqliteOptions options = {}) {
    if (options.path.empty()) options.path = path_;
    auto backend = SqliteBackend::open(options);
    EXPECT_TRUE(backend) << backend.error().message();
    return backend ? std::move(*backend) : nullptr;
  }
  TempDir dir_{"berth-sqlite"};
  std::filesystem::path path_ = dir_.path() / "data" / "state.db";
};

TEST_F(SqliteBackendTest, ANewStoreStartsAtRevisionZero) {
  auto backend = open();
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->currentRevision().value_or(-1), 0);
  EXPECT_EQ(backend->compactedRevision().value_or(-1), 0);
  ASSERT_OK_AND_ASSIGN(kv, backend->create("/registry/pods/a", "x"));
  EXPECT_EQ(kv.modRevision, 1);
}

TEST_F(SqliteBackendTest, TheFilesAreTheOwnersOnly) {
  auto backend = open();
  ASSERT_TRUE(backend);
  ASSERT_OK(backend->create("/registry/secrets/ns/s", "{}"));
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) {
    auto file = path_;
    file += suffix;
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  struct stat dir {};
  ASSERT_EQ(::stat(path_.parent_path().c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
}

TEST_F(SqliteBackendTest, OneProcessPerFile) {
  auto first = open();
  ASSERT_TRUE(first);
  auto second = SqliteBackend::open({.path = path_});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Code::kFailedPrecondition) << second.error().message();
  EXPECT_NE(second.error().message().find(path_.string()), std::string::npos);
}

TEST_F(SqliteBackendTest, AFileThatIsNotAStoreIsRefused) {
  ASSERT_TRUE(makeDirs(path_.parent_path()));
  ASSERT_TRUE(writeFile(path_, std::string(8192, 'x')));
  auto backend = SqliteBackend::open({.path = path_});
  ASSERT_FALSE(backend);
  EXPECT_EQ(backend.error().code(), Code::kDataLoss) << backend.error().message();
  EXPECT_NE(backend.error().message().find(path_.string()), std::string::npos);
}

TEST_F(SqliteBackendTest, ReopenKeepsRevisionsAndTheCompactionMark) {
  std::int64_t last = 0;
  {
    auto backend = open();
    ASSERT_TRUE(backend);
    ASSERT_OK(backend->create("/registry/pods/a", "a"));
    ASSERT_OK(backend->create("/registry/pods/b", "b"));
    ASSERT_OK_AND_ASSIGN(removed, backend->remove("/registry/pods/b", 0));
    last = removed.kv->modRevision;
    // The newest row (b's tombstone) goes with the compaction: the counter must not go back.
    ASSERT_OK(backend->compact(last));
  }
  auto backend = open();
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->currentRevision().value_or(-1), last);
  EXPECT_EQ(backend->compactedRevision().value_or(-1), last);
  ASSERT_OK_AND_ASSIGN(a, backend->get("/registry/pods/a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->modRevision, 1);
  ASSERT_OK_AND_ASSIGN(c, backend->create("/registry/pods/c", "c"));
  EXPECT_EQ(c.modRevision, last + 1);
}

TEST_F(SqliteBackendTest, ConcurrentWritersShareCommits) {
  auto backend = open();
  ASSERT_TRUE(backend);
  constexpr int kThreads = 16, kEach = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        (void)backend->create(fmt::format("/registry/pods/{}-{}", t, i), "v");
      }
    });
  }
  for (auto& t : threads)
    t.join();
  auto stats = backend->stats();
  EXPECT_EQ(stats.writes, kThreads * kEach);
  // Group commit: while one transaction is being fsynced the others queue for the next one.
  EXPECT_LT(stats.commits, stats.writes);
  std::cout << "16 writers: " << stats.writes << " writes in " << stats.commits
            << " transactions\n";
}

TEST_F(SqliteBackendTest, ScheduledCompactionKeepsOneIntervalOfHistory) {
  auto backend = open({.compactionInterval = std::chrono::milliseconds(50)});
  ASSERT_TRUE(backend);
  ASSERT_OK_AND_ASSIGN(a, backend->create("/registry/pods/a", "1"));
  ASSERT_OK_AND_ASSIGN(b, backend->update("/registry/pods/a", "2", a.modRevision));
  // Two ticks with no writes between them compact up to the newest revision, and no further.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (backend->compactedRevision().value_or(0) < b.kv->modRevision &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(backend->compactedRevision().value_or(0), b.kv->modRevision);
  auto old = backend->range("/registry/pods/a", "", a.modRevision, 0);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), Code::kOutOfRange);
  ASSERT_OK_AND_ASSIGN(now, backend->get("/registry/pods/a"));
  ASSERT_TRUE(now);
  EXPECT_EQ(now->value, "2");
}

// Writes from a child process killed with SIGKILL mid-stream: every write it acknowledged (it
// reports each on a pipe right after the call returned) is in the store after a reopen, at the
// revision it was given, with its value.
TEST_F(SqliteBackendTest, KillNineLosesNoAcknowledgedWrite) {
  ASSERT_TRUE(makeDirs(path_.parent_path()));
  auto pipe = makePipe();
  ASSERT_TRUE(pipe);
  auto [readEnd, writeEnd] = std::move(*pipe);
  constexpr int kThreads = 8, kKeysPerThread = 20;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    readEnd.reset();
    auto backend = SqliteBackend::open({.path = path_, .compactionInterval = {}});
    if (!backend) _exit(2);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::map<std::string, std::int64_t> revisions;
        for (int i = 0;; ++i) {
          auto key = fmt::format("/registry/pods/t{}-{}", t, i % kKeysPerThread);
          auto value = fmt::format("{}-{}", t, i);
          std::int64_t rev = 0;
          if (auto it = revisions.find(key); it == revisions.end()) {
            auto kv = (*backend)->create(key, value);
            if (!kv) _exit(3);
            rev = kv->modRevision;
          } else {
            auto r = (*backend)->update(key, value, it->second);
            if (!r || !r->succeeded) _exit(4);
            rev = r->kv->modRevision;
          }
          revisions[key] = rev;
          auto line = fmt::format("{} {} {}\n", key, rev, value);
          if (::write(writeEnd.get(), line.data(), line.size()) < 0) _exit(5);
        }
      });
    }
    for (auto& t : threads)
      t.join();
    _exit(0);
  }
  ChildProcess child(pid);
  writeEnd.reset();

  struct Ack {
    std::string key, value;
    std::int64_t revision;
  };
  std::vector<Ack> acks;
  std::string buffer;
  auto readAcks = [&](std::size_t until) {
    char chunk[4096];
    while (acks.size() < until) {
      ssize_t n = ::read(readEnd.get(), chunk, sizeof chunk);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t pos;
      while ((pos = buffer.find('\n')) != std::string::npos) {
        std::istringstream line(buffer.substr(0, pos));
        buffer.erase(0, pos + 1);
        Ack ack;
        line >> ack.key >> ack.revision >> ack.value;
        acks.push_back(ack);
      }
    }
  };
  readAcks(3000);
  ASSERT_GE(acks.size(), 3000u) << "the writer died early";
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  auto status = child.wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGKILL);
  readAcks(SIZE_MAX);  // what it acknowledged before it died

  auto backend = open({.compactionInterval = {}});
  ASSERT_TRUE(backend);
  std::int64_t newest = 0;
  for (const auto& ack : acks) {
    ASSERT_OK_AND_ASSIGN(at, backend->range(ack.key, "", ack.revision, 0));
    ASSERT_EQ(at.kvs.size(), 1u) << ack.key << " at " << ack.revision;
    EXPECT_EQ(at.kvs[0].modRevision, ack.revision) << ack.key;
    EXPECT_EQ(at.kvs[0].value, ack.value) << ack.key;
    newest = std::max(newest, ack.revision);
  }
  ASSERT_OK_AND_ASSIGN(current, backend->currentRevision());
  EXPECT_GE(current, newest);
  ASSERT_OK_AND_ASSIGN(next, backend->create("/registry/pods/after", "x"));
  EXPECT_EQ(next.modRevision, current + 1);
  std::cout << acks.size() << " acknowledged writes before SIGKILL, store at revision " << current
            << "\n";
}

// The goal: after 100k updates to 1k objects, the file is within 2x of its size after the
// first 1k writes. Compaction runs every 10k updates (as a schedule would under this load) and
// vacuum gives the freed pages back; without the vacuum the file would keep its high-water mark
// of 10k revisions of history, about 10x.
TEST_F(SqliteBackendTest, FileStaysBoundedUnderChurn) {
  auto backend = open({.compactionInterval = {}});
  ASSERT_TRUE(backend);
  ASSERT_OK_AND_ASSIGN(churn, runChurn(*backend, ChurnOptions{}));
  std::cout << "size after 1k writes: " << churn.sizeAfterCreates
            << " B, peak between compactions: " << churn.peakSize
            << " B, after 100k updates: " << churn.sizeAfterChurn << " B\n";
  EXPECT_LE(churn.sizeAfterChurn, 2 * churn.sizeAfterCreates);
  EXPECT_GT(churn.peakSize, 2 * churn.sizeAfterCreates)
      << "the churn did not grow the file: the test proves nothing";
}

}  // namespace
}  // namespace berth::controlplane::storage::testing
