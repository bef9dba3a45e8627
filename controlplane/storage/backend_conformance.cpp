#include "controlplane/storage/backend_conformance.h"

#include <unistd.h>

#include <atomic>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace berth::controlplane::storage::testing {

void BackendConformance::SetUp() {
  if (GetParam().skipReason) {
    if (auto reason = GetParam().skipReason(); !reason.empty()) GTEST_SKIP() << reason;
  }
  auto backend = GetParam().make();
  ASSERT_TRUE(backend) << backend.error().message();
  backend_ = std::move(*backend);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // Unique per run too (--gtest_repeat), since an etcd outlives a test.
  static std::atomic<int> runs = 0;
  root_ = fmt::format("/registry/{}-{}-{}/", info->name(), ::getpid(), runs++);
}

std::int64_t BackendConformance::revision() {
  auto r = backend_->currentRevision();
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : -1;
}

void PrintTo(const BackendFactory& factory, std::ostream* os) {
  *os << factory.name;
}

std::string printFactoryName(const ::testing::TestParamInfo<BackendFactory>& info) {
  return info.param.name;
}

namespace {

// The revision a write was given (-1 when it did not happen).
std::int64_t modRev(const TxnResult& r) {
  return r.kv ? r.kv->modRevision : -1;
}

std::vector<std::string> keysOf(const RangeResult& r) {
  std::vector<std::string> keys;
  for (const auto& kv : r.kvs)
    keys.push_back(kv.key);
  return keys;
}

TEST_P(BackendConformance, CreateAssignsTheNextRevisionAndRefusesAnExistingKey) {
  std::int64_t start = revision();
  ASSERT_OK_AND_ASSIGN(kv, backend_->create(k("pods/a"), "v1"));
  EXPECT_EQ(kv.key, k("pods/a"));
  EXPECT_EQ(kv.value, "v1");
  EXPECT_EQ(kv.modRevision, start + 1);
  EXPECT_EQ(kv.createRevision, start + 1);
  EXPECT_EQ(revision(), start + 1);

  auto again = backend_->create(k("pods/a"), "v2");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), Code::kAlreadyExists);
  EXPECT_NE(again.error().message().find(k("pods/a")), std::string::npos)
      << again.error().message();
  EXPECT_EQ(revision(), start + 1) << "a refused create must not take a revision";

  ASSERT_OK_AND_ASSIGN(got, backend_->get(k("pods/a")));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, "v1");
  EXPECT_EQ(got->modRevision, start + 1);
  ASSERT_OK_AND_ASSIGN(missing, backend_->get(k("pods/b")));
  EXPECT_FALSE(missing);
}

TEST_P(BackendConformance, UpdateComparesTheModRevision) {
  ASSERT_OK_AND_ASSIGN(created, backend_->create(k("pods/a"), "v1"));
  ASSERT_OK_AND_ASSIGN(updated, backend_->update(k("pods/a"), "v2", created.modRevision));
  ASSERT_TRUE(updated.succeeded);
  ASSERT_TRUE(updated.kv);
  EXPECT_EQ(updated.kv->value, "v2");
  EXPECT_EQ(updated.kv->modRevision, created.modRevision + 1);
  EXPECT_EQ(updated.kv->createRevision, created.createRevision);

  // A stale revision: nothing written, the key as it is now comes back.
  std::int64_t before = revision();
  ASSERT_OK_AND_ASSIGN(stale, backend_->update(k("pods/a"), "v3", created.modRevision));
  EXPECT_FALSE(stale.succeeded);
  ASSERT_TRUE(stale.kv);
  EXPECT_EQ(stale.kv->value, "v2");
  EXPECT_EQ(stale.kv->modRevision, updated.kv->modRevision);
  EXPECT_EQ(revision(), before);

  ASSERT_OK_AND_ASSIGN(absent, backend_->update(k("pods/none"), "v", 1));
  EXPECT_FALSE(absent.succeeded);
  EXPECT_FALSE(absent.kv);
  EXPECT_EQ(revision(), before);
}

TEST_P(BackendConformance, RemoveComparesTheModRevisionAndReturnsTheLastValue) {
  ASSERT_OK_AND_ASSIGN(created, backend_->create(k("pods/a"), "v1"));
  ASSERT_OK_AND_ASSIGN(stale, backend_->remove(k("pods/a"), created.modRevision + 100));
  EXPECT_FALSE(stale.succeeded);
  ASSERT_TRUE(stale.kv);
  EXPECT_EQ(stale.kv->modRevision, created.modRevision);

  ASSERT_OK_AND_ASSIGN(removed, backend_->remove(k("pods/a"), created.modRevision));
  ASSERT_TRUE(removed.succeeded);
  ASSERT_TRUE(removed.kv);
  EXPECT_EQ(removed.kv->value, "v1");
  EXPECT_EQ(modRev(removed), created.modRevision + 1);
  EXPECT_EQ(revision(), created.modRevision + 1);
  ASSERT_OK_AND_ASSIGN(gone, backend_->get(k("pods/a")));
  EXPECT_FALSE(gone);

  ASSERT_OK_AND_ASSIGN(again, backend_->remove(k("pods/a"), 0));
  EXPECT_FALSE(again.succeeded);
  EXPECT_FALSE(again.kv);

  // A key created again starts a new life: a new create revision.
  ASSERT_OK_AND_ASSIGN(recreated, backend_->create(k("pods/a"), "v2"));
  EXPECT_EQ(recreated.createRevision, recreated.modRevision);
  EXPECT_GT(recreated.createRevision, created.createRevision);
  // 0: whatever the revision.
  ASSERT_OK_AND_ASSIGN(any, backend_->remove(k("pods/a"), 0));
  EXPECT_TRUE(any.succeeded);
}

TEST_P(BackendConformance, RangeIsInBytewiseKeyOrderWithLimit) {
  for (auto name : {"c", "a", "\xc3\xa9", "b", "z"}) {
    ASSERT_OK(backend_->create(k("pods/") + name, name));
  }
  ASSERT_OK(backend_->create(k("podtemplates/a"), "outside"));
  auto prefix = k("pods/");
  ASSERT_OK_AND_ASSIGN(all, backend_->range(prefix, prefixEnd(prefix), 0, 0));
  EXPECT_EQ(keysOf(all), (std::vector<std::string>{k("pods/a"), k("pods/b"), k("pods/c"),
                                                   k("pods/z"), k("pods/\xc3\xa9")}));
  EXPECT_EQ(all.revision, revision());
  EXPECT_FALSE(all.more);

  ASSERT_OK_AND_ASSIGN(two, backend_->range(prefix, prefixEnd(prefix), 0, 2));
  EXPECT_EQ(keysOf(two), (std::vector<std::string>{k("pods/a"), k("pods/b")}));
  EXPECT_TRUE(two.more);
  // The next page starts after the last key, at the same revision.
  ASSERT_OK_AND_ASSIGN(rest,
                       backend_->range(k("pods/b") + '\0', prefixEnd(prefix), two.revision, 0));
  EXPECT_EQ(rest.kvs.size(), 3u);
  ASSERT_OK_AND_ASSIGN(exact, backend_->range(prefix, prefixEnd(prefix), 0, 5));
  EXPECT_FALSE(exact.more);

  ASSERT_OK_AND_ASSIGN(one, backend_->range(k("pods/b"), "", 0, 0));
  ASSERT_EQ(one.kvs.size(), 1u);
  EXPECT_EQ(one.kvs[0].value, "b");
}

TEST_P(BackendConformance, RangeReadsHistoricalRevisions) {
  ASSERT_OK_AND_ASSIGN(a1, backend_->create(k("pods/a"), "a1"));
  ASSERT_OK_AND_ASSIGN(a2, backend_->update(k("pods/a"), "a2", a1.modRevision));
  ASSERT_OK_AND_ASSIGN(b1, backend_->create(k("pods/b"), "b1"));
  ASSERT_OK_AND_ASSIGN(del, backend_->remove(k("pods/a"), 0));
  auto prefix = k("pods/");
  auto at = [&](std::int64_t rev) { return backend_->range(prefix, prefixEnd(prefix), rev, 0); };

  ASSERT_OK_AND_ASSIGN(r1, at(a1.modRevision));
  ASSERT_EQ(r1.kvs.size(), 1u);
  EXPECT_EQ(r1.kvs[0].value, "a1");
  EXPECT_EQ(r1.kvs[0].modRevision, a1.modRevision);
  EXPECT_EQ(r1.revision, a1.modRevision);
  ASSERT_OK_AND_ASSIGN(r2, at(modRev(a2)));
  ASSERT_EQ(r2.kvs.size(), 1u);
  EXPECT_EQ(r2.kvs[0].value, "a2");
  EXPECT_EQ(r2.kvs[0].createRevision, a1.modRevision);
  ASSERT_OK_AND_ASSIGN(r3, at(b1.modRevision));
  EXPECT_EQ(keysOf(r3), (std::vector<std::string>{k("pods/a"), k("pods/b")}));
  ASSERT_OK_AND_ASSIGN(r4, at(modRev(del)));
  EXPECT_EQ(keysOf(r4), (std::vector<std::string>{k("pods/b")}));
  ASSERT_OK_AND_ASSIGN(single, backend_->range(k("pods/a"), "", modRev(a2), 0));
  ASSERT_EQ(single.kvs.size(), 1u);
  EXPECT_EQ(single.kvs[0].value, "a2");

  auto future = at(revision() + 1000);
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code(), Code::kInvalidArgument) << future.error().message();
}

TEST_P(BackendConformance, CountCountsLiveKeysUnderThePrefix) {
  ASSERT_OK(backend_->create(k("pods/ns1/a"), "x"));
  ASSERT_OK(backend_->create(k("pods/ns1/b"), "x"));
  ASSERT_OK(backend_->create(k("pods/ns2/a"), "x"));
  ASSERT_OK(backend_->create(k("podtemplates/ns1/a"), "x"));
  ASSERT_OK(backend_->remove(k("pods/ns1/b"), 0));
  ASSERT_OK_AND_ASSIGN(all, backend_->count(k("pods/")));
  EXPECT_EQ(all, 2);
  ASSERT_OK_AND_ASSIGN(ns1, backend_->count(k("pods/ns1/")));
  EXPECT_EQ(ns1, 1);
  ASSERT_OK_AND_ASSIGN(none, backend_->count(k("nodes/")));
  EXPECT_EQ(none, 0);
}

TEST_P(BackendConformance, CompactionDropsOlderRevisionsAndKeepsTheState) {
  ASSERT_OK_AND_ASSIGN(a1, backend_->create(k("pods/a"), "a1"));
  ASSERT_OK_AND_ASSIGN(a2, backend_->update(k("pods/a"), "a2", a1.modRevision));
  ASSERT_OK_AND_ASSIGN(a3, backend_->update(k("pods/a"), "a3", modRev(a2)));
  std::int64_t c = modRev(a3);
  ASSERT_OK_AND_ASSIGN(b1, backend_->create(k("pods/b"), "b1"));
  ASSERT_OK_AND_ASSIGN(bDel, backend_->remove(k("pods/b"), 0));
  ASSERT_OK_AND_ASSIGN(gone, backend_->create(k("pods/gone"), "g"));
  (void)gone;

  ASSERT_OK(backend_->compact(c));
  ASSERT_OK_AND_ASSIGN(compacted, backend_->compactedRevision());
  EXPECT_EQ(compacted, c);
  auto prefix = k("pods/");

  auto old = backend_->range(prefix, prefixEnd(prefix), c - 1, 0);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code(), Code::kOutOfRange) << old.error().message();
  ASSERT_OK_AND_ASSIGN(atC, backend_->range(prefix, prefixEnd(prefix), c, 0));
  ASSERT_EQ(atC.kvs.size(), 1u);
  EXPECT_EQ(atC.kvs[0].value, "a3");
  EXPECT_EQ(atC.kvs[0].createRevision, a1.modRevision);
  ASSERT_OK_AND_ASSIGN(now, backend_->range(prefix, prefixEnd(prefix), 0, 0));
  EXPECT_EQ(keysOf(now), (std::vector<std::string>{k("pods/a"), k("pods/gone")}));

  auto tooOld = backend_->watch(prefix, c - 1, EventLog().callbacks());
  ASSERT_FALSE(tooOld);
  EXPECT_EQ(tooOld.error().code(), Code::kOutOfRange) << tooOld.error().message();

  // A watch from the compaction revision still gets everything after it, prev values included.
  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(prefix, c, log.callbacks()));
  ASSERT_TRUE(log.waitForEvents(3));
  auto events = log.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kv.modRevision, b1.modRevision);
  EXPECT_EQ(events[1].type, Event::Type::kDelete);
  EXPECT_EQ(events[1].kv.modRevision, modRev(bDel));
  ASSERT_TRUE(events[1].prev);
  EXPECT_EQ(events[1].prev->value, "b1");

  // Older than the mark: nothing to do; newer than the store: refused.
  EXPECT_TRUE(backend_->compact(c - 1));
  auto future = backend_->compact(revision() + 1000);
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code(), Code::kInvalidArgument) << future.error().message();
}

TEST_P(BackendConformance, WatchReplaysHistoryThenFollowsLiveWrites) {
  ASSERT_OK_AND_ASSIGN(a1, backend_->create(k("pods/a"), "a1"));
  ASSERT_OK_AND_ASSIGN(a2, backend_->update(k("pods/a"), "a2", a1.modRevision));
  ASSERT_OK(backend_->create(k("podtemplates/x"), "sibling"));
  ASSERT_OK_AND_ASSIGN(b1, backend_->create(k("pods/b"), "b1"));

  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(k("pods/"), a1.modRevision, log.callbacks()));
  ASSERT_TRUE(log.waitForEvents(2));
  ASSERT_OK_AND_ASSIGN(a3, backend_->update(k("pods/a"), "a3", modRev(a2)));
  ASSERT_OK(backend_->create(k("podtemplates/y"), "sibling"));
  ASSERT_OK_AND_ASSIGN(del, backend_->remove(k("pods/b"), 0));
  ASSERT_TRUE(log.waitForEvents(4));

  auto events = log.events();
  ASSERT_EQ(events.size(), 4u);
  // History: the update of a (with its prev), the create of b (no prev).
  EXPECT_EQ(events[0].type, Event::Type::kPut);
  EXPECT_EQ(events[0].kv.value, "a2");
  EXPECT_EQ(events[0].kv.modRevision, modRev(a2));
  EXPECT_EQ(events[0].kv.createRevision, a1.modRevision);
  ASSERT_TRUE(events[0].prev);
  EXPECT_EQ(events[0].prev->value, "a1");
  EXPECT_EQ(events[0].prev->modRevision, a1.modRevision);
  EXPECT_EQ(events[1].kv.key, k("pods/b"));
  EXPECT_EQ(events[1].kv.modRevision, b1.modRevision);
  EXPECT_FALSE(events[1].prev);
  // Live.
  EXPECT_EQ(events[2].kv.value, "a3");
  EXPECT_EQ(events[2].kv.modRevision, modRev(a3));
  ASSERT_TRUE(events[2].prev);
  EXPECT_EQ(events[2].prev->value, "a2");
  EXPECT_EQ(events[3].type, Event::Type::kDelete);
  EXPECT_EQ(events[3].kv.key, k("pods/b"));
  EXPECT_EQ(events[3].kv.value, "b1");
  EXPECT_EQ(events[3].kv.modRevision, modRev(del));
  ASSERT_TRUE(events[3].prev);
  EXPECT_EQ(events[3].prev->modRevision, b1.modRevision);
  for (const auto& e : events) {
    EXPECT_NE(e.kv.key.find("/pods/"), std::string::npos) << e.kv.key;
  }
}

TEST_P(BackendConformance, WatchFromNowSeesOnlyLaterWrites) {
  ASSERT_OK(backend_->create(k("pods/old"), "x"));
  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(k("pods/"), revision(), log.callbacks()));
  ASSERT_OK_AND_ASSIGN(fresh, backend_->create(k("pods/new"), "y"));
  ASSERT_TRUE(log.waitForEvents(1));
  auto events = log.events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, k("pods/new"));
  EXPECT_EQ(events[0].kv.modRevision, fresh.modRevision);
}

TEST_P(BackendConformance, WatchSeesConcurrentWritesOnceInRevisionOrder) {
  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(k("pods/"), revision(), log.callbacks()));
  constexpr int kThreads = 8, kEach = 40;
  std::mutex mu;
  std::set<std::int64_t> written;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto kv = backend_->create(k(fmt::format("pods/t{}-{}", t, i)), "v");
        if (!kv) {
          ++failures;
          continue;
        }
        std::lock_guard lock(mu);
        written.insert(kv->modRevision);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(failures, 0);
  ASSERT_TRUE(log.waitForEvents(kThreads * kEach));
  auto events = log.events();
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kThreads * kEach));
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(events[i - 1].kv.modRevision, events[i].kv.modRevision);
    }
    seen.insert(events[i].kv.modRevision);
  }
  EXPECT_EQ(seen, written);
}

TEST_P(BackendConformance, ConcurrentCreatesTakeDistinctConsecutiveRevisions) {
  std::int64_t start = revision();
  constexpr int kThreads = 16, kEach = 20;
  std::mutex mu;
  std::set<std::int64_t> revisions;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto kv = backend_->create(k(fmt::format("pods/{}-{}", t, i)), "v");
        std::lock_guard lock(mu);
        revisions.insert(kv ? kv->modRevision : -1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(revisions.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*revisions.begin(), start + 1);
  EXPECT_EQ(*revisions.rbegin(), start + kThreads * kEach);
  EXPECT_EQ(revision(), start + kThreads * kEach);
}

TEST_P(BackendConformance, CompareAndSwapLosesNoIncrement) {
  ASSERT_OK(backend_->create(k("counter"), "0"));
  constexpr int kThreads = 8, kEach = 15;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto current = backend_->get(k("counter"));
        while (current && *current) {
          auto next = std::to_string(std::stoi((*current)->value) + 1);
          auto r = backend_->update(k("counter"), next, (*current)->modRevision);
          if (!r) break;
          if (r->succeeded) break;
          current = std::optional<KeyValue>(r->kv);  // lost the race: retry on what won
        }
        if (!current || !*current) ++failures;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(failures, 0);
  ASSERT_OK_AND_ASSIGN(final, backend_->get(k("counter")));
  ASSERT_TRUE(final);
  EXPECT_EQ(final->value, std::to_string(kThreads * kEach));
}

TEST_P(BackendConformance, ADestroyedWatchGetsNothingMore) {
  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(k("pods/"), revision(), log.callbacks()));
  ASSERT_OK(backend_->create(k("pods/1"), "x"));
  ASSERT_TRUE(log.waitForEvents(1));
  handle.reset();
  std::size_t calls = log.calls();
  ASSERT_OK(backend_->create(k("pods/2"), "x"));
  // A second watch that sees the write proves the write was dispatched.
  EventLog later;
  ASSERT_OK_AND_ASSIGN(other, backend_->watch(k("pods/"), revision() - 1, later.callbacks()));
  ASSERT_TRUE(later.waitForEvents(1));
  EXPECT_EQ(log.calls(), calls);
}

TEST_P(BackendConformance, ProgressReportsTheRevisionAWatcherIsCurrentAt) {
  EventLog log;
  ASSERT_OK_AND_ASSIGN(handle, backend_->watch(k("pods/"), revision(), log.callbacks()));
  // Writes elsewhere move the revision without an event for this watch.
  ASSERT_OK_AND_ASSIGN(other, backend_->create(k("nodes/n1"), "x"));
  handle->requestProgress();
  EXPECT_TRUE(log.waitForProgress(other.modRevision));
  EXPECT_TRUE(log.events().empty());
}

TEST_P(BackendConformance, ValuesAndKeysAreBytes) {
  std::string value("a\0b\xff\xfe", 5);
  std::string key = k("bytes/") + std::string("k\x01\x7f", 3);
  ASSERT_OK(backend_->create(key, value));
  ASSERT_OK_AND_ASSIGN(got, backend_->get(key));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->key, key);
  EXPECT_EQ(got->value, value);
  ASSERT_OK_AND_ASSIGN(empty, backend_->create(k("bytes/empty"), ""));
  ASSERT_OK_AND_ASSIGN(gotEmpty, backend_->get(k("bytes/empty")));
  ASSERT_TRUE(gotEmpty);
  EXPECT_EQ(gotEmpty->value, "");
  EXPECT_EQ(gotEmpty->modRevision, empty.modRevision);
}

TEST_P(BackendConformance, ReportsItsSizeOnDisk) {
  ASSERT_OK(backend_->create(k("pods/a"), std::string(10000, 'x')));
  ASSERT_OK_AND_ASSIGN(size, backend_->sizeBytes());
  EXPECT_GT(size, 10000);
}

}  // namespace
}  // namespace berth::controlplane::storage::testing
