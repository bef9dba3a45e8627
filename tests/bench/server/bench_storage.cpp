// Storage: each backend gets BENCH_WRITES pod-sized creates from 1 writer, then from 16, and
// prints writes/s with p50/p99 latency; then the size of the SQLite file (and of etcd's bbolt
// file, which only a defragmentation shrinks) after 1k creates and after BENCH_CHURN updates to
// those 1k objects, compacting every 10k updates. etcd runs from Debian's etcd-server on
// 127.0.0.1 with its data on the same disk; without an etcd binary its rows say n/a.
#include "tests/bench/server/bench_storage.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "common/temp_dir_for_test.h"
#include "controlplane/storage/etcd_backend.h"
#include "controlplane/storage/etcd_test_server.h"
#include "controlplane/storage/sqlite_backend.h"
#include "controlplane/storage/storage_workload.h"

namespace berth::bench {

namespace {

using namespace berth::controlplane::storage;
using namespace berth::controlplane::storage::testing;
using Clock = std::chrono::steady_clock;

int envInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : fallback;
}

struct WriteStats {
  double perSecond = 0;
  double p50ms = 0;
  double p99ms = 0;
};

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// `writes` creates spread over `writers` threads, each timed from call to acknowledgement.
Result<WriteStats> measureCreates(Backend& backend, const std::string& prefix, int writers,
                                  int writes) {
  std::mutex mu;
  std::vector<double> latencies;
  latencies.reserve(writes);
  std::optional<Error> failure;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&, t] {
      std::vector<double> mine;
      for (int i = t; i < writes; i += writers) {
        auto begin = Clock::now();
        auto kv = backend.create(fmt::format("{}w{}-{}", prefix, writers, i), podValue(i, 0));
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
        if (!kv) {
          std::lock_guard lock(mu);
          if (!failure) failure = kv.error();
          return;
        }
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads)
    t.join();
  if (failure) return std::unexpected(*failure);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  return WriteStats{writes / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99)};
}

double mb(std::int64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

struct Subject {
  std::string name;
  std::unique_ptr<Backend> backend;
  std::string unavailable;  // why it has no numbers
};

// false when a backend failed a write.
bool printWrites(std::vector<Subject>& subjects, int writes) {
  bool ok = true;
  std::printf("storage writes: %d pod-sized (~1 KiB) creates per run, acknowledged = durable\n",
              writes);
  std::printf("%-8s %8s %12s %10s %10s %14s %12s\n", "backend", "writers", "writes/s", "p50 ms",
              "p99 ms", "vs sqlite w/s", "writes/fsync");
  for (int writers : {1, 16}) {
    double base = 0;
    for (auto& s : subjects) {
      if (!s.backend) {
        std::printf("%-8s %8d %12s %10s %10s %14s  (%s)\n", s.name.c_str(), writers, "n/a", "n/a",
                    "n/a", "n/a", s.unavailable.c_str());
        continue;
      }
      auto prefix = fmt::format("/registry/bench-{}/", writers);
      // SQLite's group commit: how many writes shared each transaction (one fsync each).
      auto* sqlite = dynamic_cast<SqliteBackend*>(s.backend.get());
      auto before = sqlite != nullptr ? sqlite->stats() : SqliteStats{};
      auto stats = measureCreates(*s.backend, prefix, writers, writes);
      if (!stats) {
        s.unavailable = stats.error().message();
        std::printf("%-8s %8d  failed: %s\n", s.name.c_str(), writers, s.unavailable.c_str());
        s.backend.reset();
        ok = false;
        continue;
      }
      if (base == 0) base = stats->perSecond;
      std::string perCommit = "n/a";
      if (sqlite != nullptr) {
        auto after = sqlite->stats();
        auto commits = std::max<std::int64_t>(after.commits - before.commits, 1);
        perCommit = fmt::format("{:.1f}", static_cast<double>(after.writes - before.writes) /
                                              static_cast<double>(commits));
      }
      std::printf("%-8s %8d %12.0f %10.2f %10.2f %13.2fx %12s\n", s.name.c_str(), writers,
                  stats->perSecond, stats->p50ms, stats->p99ms, stats->perSecond / base,
                  perCommit.c_str());
    }
  }
  return ok;
}

bool printChurn(const std::string& name, Backend& backend, int updates) {
  ChurnOptions options;
  options.updates = updates;
  auto churn = runChurn(backend, options);
  if (!churn) {
    std::printf("%-8s churn failed: %s\n", name.c_str(), churn.error().message().c_str());
    return false;
  }
  std::printf("%-8s %12.2f %12.2f %12.2f %9.2fx %10.0f\n", name.c_str(),
              mb(churn->sizeAfterCreates), mb(churn->peakSize), mb(churn->sizeAfterChurn),
              static_cast<double>(churn->sizeAfterChurn) / churn->sizeAfterCreates,
              updates / churn->seconds);
  return true;
}

}  // namespace

int runStorageBench() {
  int writes = envInt("BENCH_WRITES", 2000);
  int churnUpdates = envInt("BENCH_CHURN", 100'000);
  berth::testing::TempDir dir("berth-bench-storage");

  std::vector<Subject> subjects;
  auto sqlite = SqliteBackend::open({.path = dir.path() / "sqlite" / "state.db"});
  if (!sqlite) {
    std::printf("sqlite: %s\n", sqlite.error().message().c_str());
    return 1;
  }
  subjects.push_back({"sqlite", std::move(*sqlite), {}});
  std::unique_ptr<EtcdTestServer> etcdServer;
  Subject etcd{"etcd", nullptr, EtcdTestServer::unavailableReason()};
  if (etcd.unavailable.empty()) {
    auto server = EtcdTestServer::start(dir.path() / "etcd");
    if (!server) {
      std::printf("etcd: %s\n", server.error().message().c_str());
      return 1;
    }
    etcdServer = std::move(*server);
    auto backend = EtcdBackend::open({.servers = {etcdServer->url()}});
    if (!backend) {
      std::printf("etcd: %s\n", backend.error().message().c_str());
      return 1;
    }
    etcd.backend = std::move(*backend);
  }
  subjects.push_back(std::move(etcd));

  bool failed = !printWrites(subjects, writes);

  std::printf(
      "\nstore size: 1000 objects created, then %d updates from 16 writers, compacted "
      "every 10000 (goal for sqlite: after <= 2x after-1k)\n",
      churnUpdates);
  std::printf("%-8s %12s %12s %12s %10s %10s\n", "backend", "after-1k MB", "peak MB", "after MB",
              "after/1k", "upd/s");
  // Fresh stores, so the write runs above do not count.
  auto sqliteChurn = SqliteBackend::open(
      {.path = dir.path() / "sqlite-churn" / "state.db", .compactionInterval = {}});
  if (sqliteChurn) {
    failed = !printChurn("sqlite", **sqliteChurn, churnUpdates) || failed;
  } else {
    std::printf("sqlite: %s\n", sqliteChurn.error().message().c_str());
    failed = true;
  }
  if (etcdServer && subjects.back().backend) {
    subjects.back().backend.reset();
    etcdServer.reset();
    auto server = EtcdTestServer::start(dir.path() / "etcd-churn");
    auto backend = server ? EtcdBackend::open({.servers = {(*server)->url()}})
                          : Result<std::unique_ptr<EtcdBackend>>(std::unexpected(server.error()));
    if (backend) {
      failed = !printChurn("etcd", **backend, churnUpdates) || failed;
    } else {
      std::printf("etcd: %s\n", backend.error().message().c_str());
      failed = true;
    }
  } else {
    std::printf("%-8s n/a (%s)\n", "etcd", subjects.back().unavailable.c_str());
  }
  return failed ? 1 : 0;
}

}  // namespace berth::bench
