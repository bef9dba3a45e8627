// The watch cache over a real SQLite backend: list/get from memory, watch ordering, filter
// transitions, resume and 410, initial events and bookmarks, fan-out to 100 watchers with one
// serialization per object, dropped sinks, re-list after a lost backend watch, destruction while
// events flow.
#include "controlplane/storage/watch_cache.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/temp_dir_for_test.h"
#include "controlplane/storage/sqlite_backend.h"
#include "controlplane/storage/storage_testing.h"

namespace berth::controlplane::storage::testing {
namespace {

using namespace std::chrono_literals;
using Type = WatchEvent::Type;

std::string pod(std::string_view name, std::string_view app, std::string_view extra = "") {
  nlohmann::json j = {{"kind", "Pod"},
                      {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
                      {"spec", {{"extra", extra}}}};
  return j.dump();
}

std::string rv(const ObjectPtr& object) {
  return object ? object->json()["metadata"].value("resourceVersion", "") : "";
}

// Collects what a cache watch delivers.
class Recorder {
 public:
  WatchCache::Sink sink(int stopAfter = -1) {
    return [this, stopAfter](const WatchEvent& event) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      cv_.notify_all();
      return stopAfter < 0 || static_cast<int>(events_.size()) < stopAfter;
    };
  }
  // Waits until `n` events other than bookmarks arrived.
  bool waitFor(std::size_t n, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return nonBookmarks() >= n; });
  }
  bool waitForBookmarks(std::size_t n, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return events_.size() - nonBookmarks() >= n; });
  }
  bool waitForError(std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout,
                        [&] { return !events_.empty() && events_.back().type == Type::kError; });
  }
  std::vector<WatchEvent> events(bool bookmarks = false) const {
    std::lock_guard lock(mu_);
    std::vector<WatchEvent> out;
    for (const auto& e : events_) {
      if (bookmarks || e.type != Type::kBookmark) out.push_back(e);
    }
    return out;
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return events_.size();
  }

 private:
  std::size_t nonBookmarks() const {
    return std::count_if(events_.begin(), events_.end(),
                         [](const WatchEvent& e) { return e.type != Type::kBookmark; });
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchEvent> events_;
};

class WatchCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto backend = SqliteBackend::open({.path = dir_.path() / "state.db"});
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
  }
  std::unique_ptr<WatchCache> start(WatchCacheOptions options = {}) {
    auto cache = WatchCache::start(*backend_, std::move(options));
    EXPECT_TRUE(cache) << cache.error().message();
    return cache ? std::move(*cache) : nullptr;
  }
  KeyValue create(std::string_view key, const std::string& value) {
    auto kv = backend_->create(key, value);
    EXPECT_TRUE(kv) << kv.error().message();
    return kv ? *kv : KeyValue{};
  }
  std::int64_t update(std::string_view key, const std::string& value) {
    auto current = backend_->get(key);
    EXPECT_TRUE(current && *current);
    auto r = backend_->update(key, value, (*current)->modRevision);
    EXPECT_TRUE(r && r->succeeded);
    return r && r->kv ? r->kv->modRevision : -1;
  }
  std::int64_t remove(std::string_view key) {
    auto r = backend_->remove(key, 0);
    EXPECT_TRUE(r && r->succeeded);
    return r && r->kv ? r->kv->modRevision : -1;
  }

  berth::testing::TempDir dir_{"berth-watch-cache"};
  std::unique_ptr<SqliteBackend> backend_;
};

TEST_F(WatchCacheTest, ServesListAndGetFromTheInitialListAndLaterWrites) {
  auto a = create("/registry/pods/ns1/a", pod("a", "web"));
  create("/registry/pods/ns2/b", pod("b", "db"));
  create("/registry/podtemplates/ns1/t", pod("t", "web"));
  auto cache = start();
  ASSERT_TRUE(cache);
  EXPECT_EQ(cache->revision(), *backend_->currentRevision());

  auto all = cache->list("/registry/pods/");
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].key, "/registry/pods/ns1/a");
  EXPECT_EQ(all.items[1].key, "/registry/pods/ns2/b");
  EXPECT_EQ(all.revision, cache->revision());
  // resourceVersion is the mod revision, set by the decode, never stored.
  EXPECT_EQ(rv(all.items[0].object), std::to_string(a.modRevision));
  EXPECT_EQ(all.items[0].revision, a.modRevision);

  auto web = cache->list("/registry/pods/", [](const nlohmann::json& o) {
    return o["metadata"]["labels"]["app"] == "web";
  });
  ASSERT_EQ(web.items.size(), 1u);
  EXPECT_EQ(web.items[0].key, "/registry/pods/ns1/a");
  EXPECT_EQ(cache->list("/registry/pods/ns2/").items.size(), 1u);
  // A key without a trailing '/' is that key only.
  EXPECT_EQ(cache->list("/registry/pods/ns1/a").items.size(), 1u);
  EXPECT_EQ(cache->list("/registry/pods/ns1/").items.size(), 1u);

  auto c = create("/registry/pods/ns1/c", pod("c", "web"));
  ASSERT_TRUE(cache->waitForRevision(c.modRevision, 20s));
  auto got = cache->get("/registry/pods/ns1/c");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->revision, c.modRevision);
  EXPECT_EQ(got->object->json()["metadata"]["name"], "c");
  remove("/registry/pods/ns1/c");
  ASSERT_TRUE(cache->waitForRevision(*backend_->currentRevision(), 20s));
  EXPECT_FALSE(cache->get("/registry/pods/ns1/c"));
}

TEST_F(WatchCacheTest, WatchDeliversAddedModifiedDeletedInRevisionOrder) {
  auto cache = start();
  ASSERT_TRUE(cache);
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(
      handle, cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = cache->revision()},
                           rec.sink()));
  auto created = create("/registry/pods/ns/a", pod("a", "web"));
  auto updated = update("/registry/pods/ns/a", pod("a", "web", "2"));
  create("/registry/podtemplates/ns/x", pod("x", "web"));
  auto deleted = remove("/registry/pods/ns/a");
  ASSERT_TRUE(rec.waitFor(3));
  auto events = rec.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, Type::kAdded);
  EXPECT_EQ(events[0].revision, created.modRevision);
  EXPECT_EQ(events[1].type, Type::kModified);
  EXPECT_EQ(events[1].revision, updated);
  EXPECT_EQ(events[1].object->json()["spec"]["extra"], "2");
  EXPECT_EQ(events[2].type, Type::kDeleted);
  EXPECT_EQ(events[2].revision, deleted);
  // DELETED carries the last state at the delete's resourceVersion.
  EXPECT_EQ(rv(events[2].object), std::to_string(deleted));
  EXPECT_EQ(events[2].object->json()["spec"]["extra"], "2");
  for (const auto& e : events)
    EXPECT_EQ(e.key, "/registry/pods/ns/a");
}

TEST_F(WatchCacheTest, AnObjectLeavingTheFilterArrivesAsDeletedAndEnteringAsAdded) {
  auto cache = start();
  ASSERT_TRUE(cache);
  Recorder rec;
  WatchCache::WatchOptions options{.keyPrefix = "/registry/pods/",
                                   .afterRevision = cache->revision()};
  options.filter = [](const nlohmann::json& o) { return o["metadata"]["labels"]["app"] == "web"; };
  ASSERT_OK_AND_ASSIGN(handle, cache->watch(options, rec.sink()));
  create("/registry/pods/ns/a", pod("a", "db"));                       // outside: nothing
  auto entered = update("/registry/pods/ns/a", pod("a", "web"));       // ADDED
  auto changed = update("/registry/pods/ns/a", pod("a", "web", "x"));  // MODIFIED
  auto left = update("/registry/pods/ns/a", pod("a", "db", "y"));      // DELETED
  remove("/registry/pods/ns/a");                                       // outside: nothing
  auto marker = create("/registry/pods/ns/z", pod("z", "web"));        // ADDED
  ASSERT_TRUE(rec.waitFor(4));
  auto events = rec.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, Type::kAdded);
  EXPECT_EQ(events[0].revision, entered);
  EXPECT_EQ(events[1].type, Type::kModified);
  EXPECT_EQ(events[1].revision, changed);
  EXPECT_EQ(events[2].type, Type::kDeleted);
  EXPECT_EQ(events[2].revision, left);
  // The state it had while it passed, at the revision where it left.
  EXPECT_EQ(events[2].object->json()["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(events[2].object->json()["spec"]["extra"], "x");
  EXPECT_EQ(rv(events[2].object), std::to_string(left));
  EXPECT_EQ(events[3].revision, marker.modRevision);
}

TEST_F(WatchCacheTest, ResumesFromARevisionInsideTheWindow) {
  auto cache = start();
  ASSERT_TRUE(cache);
  auto r1 = create("/registry/pods/ns/a", pod("a", "web")).modRevision;
  auto r2 = update("/registry/pods/ns/a", pod("a", "web", "2"));
  auto r3 = create("/registry/pods/ns/b", pod("b", "web")).modRevision;
  ASSERT_TRUE(cache->waitForRevision(r3, 20s));
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(
      handle, cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = r1}, rec.sink()));
  auto r4 = remove("/registry/pods/ns/a");
  ASSERT_TRUE(rec.waitFor(3));
  auto events = rec.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].revision, r2);
  EXPECT_EQ(events[0].type, Type::kModified);
  EXPECT_EQ(events[1].revision, r3);
  EXPECT_EQ(events[1].type, Type::kAdded);
  EXPECT_EQ(events[2].revision, r4);
  EXPECT_EQ(events[2].type, Type::kDeleted);
}

TEST_F(WatchCacheTest, ARevisionOutsideTheWindowIsOutOfRange) {
  auto before = create("/registry/pods/ns/early", pod("early", "web")).modRevision;
  create("/registry/pods/ns/later", pod("later", "web"));
  auto cache = start({.eventWindow = 3});
  ASSERT_TRUE(cache);
  // Older than the list the cache started from.
  auto tooOld =
      cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = before}, Recorder().sink());
  ASSERT_FALSE(tooOld);
  EXPECT_EQ(tooOld.error().code(), Code::kOutOfRange) << tooOld.error().message();

  std::int64_t first = 0, last = 0;
  for (int i = 0; i < 6; ++i) {
    last = create(fmt::format("/registry/pods/ns/p{}", i), pod("p", "web")).modRevision;
    if (i == 0) first = last;
  }
  ASSERT_TRUE(cache->waitForRevision(last, 20s));
  auto evicted =
      cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = first}, Recorder().sink());
  ASSERT_FALSE(evicted);
  EXPECT_EQ(evicted.error().code(), Code::kOutOfRange);
  // The last 3 events are still there.
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(
      handle,
      cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = last - 3}, rec.sink()));
  ASSERT_TRUE(rec.waitFor(3));
  EXPECT_EQ(rec.events().front().revision, last - 2);
}

TEST_F(WatchCacheTest, InitialEventsEndWithABookmark) {
  create("/registry/pods/ns/a", pod("a", "web"));
  create("/registry/pods/ns/b", pod("b", "db"));
  auto cache = start();
  ASSERT_TRUE(cache);
  Recorder rec;
  WatchCache::WatchOptions options{.keyPrefix = "/registry/pods/", .sendInitialEvents = true};
  options.filter = [](const nlohmann::json& o) { return o["metadata"]["labels"]["app"] == "web"; };
  ASSERT_OK_AND_ASSIGN(handle, cache->watch(options, rec.sink()));
  ASSERT_TRUE(rec.waitForBookmarks(1));
  auto events = rec.events(true);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, Type::kAdded);
  EXPECT_EQ(events[0].key, "/registry/pods/ns/a");
  EXPECT_EQ(events[1].type, Type::kBookmark);
  EXPECT_TRUE(events[1].initialEventsEnd);
  EXPECT_EQ(events[1].revision, cache->revision());
  // Then live.
  auto c = create("/registry/pods/ns/c", pod("c", "web"));
  ASSERT_TRUE(rec.waitFor(2));
  EXPECT_EQ(rec.events().back().revision, c.modRevision);
}

TEST_F(WatchCacheTest, BookmarksComeAtTheIntervalWhenNothingElseIsSent) {
  auto cache = start();
  ASSERT_TRUE(cache);
  auto r = create("/registry/pods/ns/a", pod("a", "web")).modRevision;
  ASSERT_TRUE(cache->waitForRevision(r, 20s));
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(
      handle,
      cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = r, .bookmarkInterval = 20ms},
                   rec.sink()));
  ASSERT_TRUE(rec.waitForBookmarks(2));
  for (const auto& e : rec.events(true)) {
    EXPECT_EQ(e.type, Type::kBookmark);
    EXPECT_EQ(e.revision, r);
    EXPECT_FALSE(e.object);
    EXPECT_FALSE(e.initialEventsEnd);
  }
}

TEST_F(WatchCacheTest, HundredWatchersReceiveEveryEventSerializedOnce) {
  auto cache = start();
  ASSERT_TRUE(cache);
  constexpr int kWatchers = 100, kEvents = 50;
  std::vector<std::unique_ptr<Recorder>> recs;
  std::vector<std::unique_ptr<WatchHandle>> handles;
  for (int i = 0; i < kWatchers; ++i) {
    recs.push_back(std::make_unique<Recorder>());
    auto handle = cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = cache->revision()},
                               recs.back()->sink());
    ASSERT_TRUE(handle) << handle.error().message();
    handles.push_back(std::move(*handle));
  }
  for (int i = 0; i < kEvents; ++i)
    create(fmt::format("/registry/pods/ns/p{}", i), pod("p", "x"));
  for (auto& rec : recs)
    ASSERT_TRUE(rec->waitFor(kEvents));
  auto reference = recs[0]->events();
  for (auto& rec : recs) {
    auto events = rec->events();
    ASSERT_EQ(events.size(), static_cast<std::size_t>(kEvents));
    for (int i = 0; i < kEvents; ++i) {
      EXPECT_EQ(events[i].revision, reference[i].revision);
      // One shared object, one serialization, whatever the number of watchers.
      EXPECT_EQ(events[i].object.get(), reference[i].object.get());
      EXPECT_EQ(&events[i].object->serialized(), &reference[i].object->serialized());
    }
  }
}

TEST_F(WatchCacheTest, AWatcherWhoseSinkReturnsFalseIsDropped) {
  auto cache = start();
  ASSERT_TRUE(cache);
  Recorder quitter, stayer;
  auto from = cache->revision();
  ASSERT_OK_AND_ASSIGN(
      h1, cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = from}, quitter.sink(1)));
  ASSERT_OK_AND_ASSIGN(
      h2, cache->watch({.keyPrefix = "/registry/pods/", .afterRevision = from}, stayer.sink()));
  for (int i = 0; i < 5; ++i)
    create(fmt::format("/registry/pods/ns/p{}", i), pod("p", "x"));
  ASSERT_TRUE(stayer.waitFor(5));
  EXPECT_EQ(quitter.size(), 1u);
  h1.reset();  // destroying a dropped watch's handle is fine
}

TEST_F(WatchCacheTest, WaitForRevisionTimesOutAndWaitForFreshSeesWritesElsewhere) {
  auto cache = start({.prefix = "/registry/pods/"});
  ASSERT_TRUE(cache);
  auto future = cache->waitForRevision(cache->revision() + 1, 30ms);
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code(), Code::kDeadlineExceeded);
  // A write outside the cache's prefix moves the store's revision without an event for it.
  auto node = create("/registry/nodes/n1", pod("n1", "x"));
  ASSERT_OK(cache->waitForFresh(20s));
  EXPECT_GE(cache->revision(), node.modRevision);
  EXPECT_FALSE(cache->get("/registry/nodes/n1"));
}

TEST_F(WatchCacheTest, AValueThatDoesNotDecodeIsSkipped) {
  create("/registry/pods/ns/bad", "not json");
  auto cache = start();
  ASSERT_TRUE(cache);
  EXPECT_FALSE(cache->get("/registry/pods/ns/bad"));
  create("/registry/pods/ns/bad2", "[1,2]");
  auto good = create("/registry/pods/ns/good", pod("good", "x"));
  ASSERT_TRUE(cache->waitForRevision(good.modRevision, 20s));
  EXPECT_FALSE(cache->get("/registry/pods/ns/bad2"));
  EXPECT_TRUE(cache->get("/registry/pods/ns/good"));
}

TEST(DecodeObject, SetsTheResourceVersionAndRefusesWhatIsNotAnObject) {
  struct Case {
    std::string value;
    bool ok;
  };
  const Case cases[] = {
      {R"({"metadata":{"name":"a"}})", true},
      {R"({"kind":"Pod"})", true},
      {R"({"metadata":{"resourceVersion":"999"}})", true},
      {"not json", false},
      {"[1]", false},
      {R"({"metadata":"x"})", false},
  };
  for (const auto& c : cases) {
    auto decoded = decodeObject(KeyValue{"/registry/pods/ns/a", c.value, 3, 7});
    ASSERT_EQ(decoded.has_value(), c.ok) << c.value;
    if (decoded) {
      EXPECT_EQ((*decoded)["metadata"]["resourceVersion"], "7") << c.value;
    } else {
      EXPECT_EQ(decoded.error().code(), Code::kDataLoss);
      EXPECT_NE(decoded.error().message().find("/registry/pods/ns/a"), std::string::npos);
    }
  }
}

// A backend whose watches the test can end, as an etcd watch ends when etcd compacted past it
// while the connection was down. Everything else is the SQLite backend.
class EndableBackend final : public Backend {
 public:
  explicit EndableBackend(Backend& inner) : inner_(inner) {}
  void endWatches(const Error& error) {
    std::vector<std::function<void(const Error&)>> ends;
    {
      std::lock_guard lock(mu_);
      ends.swap(onErrors_);
    }
    for (auto& end : ends)
      end(error);
  }
  int watches() const {
    std::lock_guard lock(mu_);
    return watchCount_;
  }
  Result<std::int64_t> currentRevision() override { return inner_.currentRevision(); }
  Result<std::int64_t> compactedRevision() override { return inner_.compactedRevision(); }
  Result<RangeResult> range(std::string_view s, std::string_view e, std::int64_t r,
                            std::int64_t l) override {
    return inner_.range(s, e, r, l);
  }
  Result<std::int64_t> count(std::string_view p) override { return inner_.count(p); }
  Result<KeyValue> create(std::string_view k, std::string_view v) override {
    return inner_.create(k, v);
  }
  Result<TxnResult> update(std::string_view k, std::string_view v, std::int64_t r) override {
    return inner_.update(k, v, r);
  }
  Result<TxnResult> remove(std::string_view k, std::int64_t r) override {
    return inner_.remove(k, r);
  }
  Result<std::unique_ptr<WatchHandle>> watch(std::string_view p, std::int64_t after,
                                             WatchCallbacks cb) override {
    std::lock_guard lock(mu_);
    ++watchCount_;
    onErrors_.push_back(cb.onError);
    return inner_.watch(p, after, std::move(cb));
  }
  Status compact(std::int64_t r) override { return inner_.compact(r); }
  Result<std::int64_t> sizeBytes() override { return inner_.sizeBytes(); }

 private:
  Backend& inner_;
  mutable std::mutex mu_;
  std::vector<std::function<void(const Error&)>> onErrors_;
  int watchCount_ = 0;
};

TEST_F(WatchCacheTest, ALostBackendWatchRelistsAndEndsTheWatchers) {
  EndableBackend endable(*backend_);
  auto cache = WatchCache::start(endable, {});
  ASSERT_TRUE(cache) << cache.error().message();
  Recorder rec;
  ASSERT_OK_AND_ASSIGN(handle, (*cache)->watch({.keyPrefix = "/registry/pods/",
                                                .afterRevision = (*cache)->revision()},
                                               rec.sink()));
  create("/registry/pods/ns/a", pod("a", "x"));
  ASSERT_TRUE(rec.waitFor(1));
  endable.endWatches(Error(Code::kOutOfRange, "compacted"));
  ASSERT_TRUE(rec.waitForError());
  auto events = rec.events();
  ASSERT_EQ(events.back().type, Type::kError);
  ASSERT_TRUE(events.back().error);
  EXPECT_EQ(events.back().error->code(), Code::kUnavailable);
  EXPECT_EQ(endable.watches(), 2);
  // The cache follows the store again.
  auto b = create("/registry/pods/ns/b", pod("b", "x"));
  ASSERT_TRUE((*cache)->waitForRevision(b.modRevision, 20s));
  EXPECT_TRUE((*cache)->get("/registry/pods/ns/b"));
  EXPECT_EQ(rec.size(), events.size()) << "an ended watch got more events";
}

TEST_F(WatchCacheTest, DestructionWhileEventsFlowStopsEverySink) {
  auto cache = start();
  ASSERT_TRUE(cache);
  std::atomic<bool> destroyed = false;
  std::atomic<int> afterDestruction = 0, delivered = 0;
  std::vector<std::unique_ptr<WatchHandle>> handles;
  for (int i = 0; i < 20; ++i) {
    auto handle = cache->watch({.keyPrefix = "/registry/pods/"}, [&](const WatchEvent&) {
      if (destroyed) ++afterDestruction;
      ++delivered;
      return true;
    });
    ASSERT_TRUE(handle);
    handles.push_back(std::move(*handle));
  }
  std::atomic<bool> stop = false;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        (void)backend_->create(fmt::format("/registry/pods/ns/t{}-{}", t, i), pod("p", "x"));
      }
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (delivered < 2000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(delivered, 2000);
  cache.reset();
  destroyed = true;
  // Writes go on after the cache is gone; its handles outlive it.
  auto more = backend_->create("/registry/pods/ns/after", pod("after", "x"));
  EXPECT_TRUE(more);
  stop = true;
  for (auto& w : writers)
    w.join();
  handles.clear();
  EXPECT_EQ(afterDestruction, 0);
}

}  // namespace
}  // namespace berth::controlplane::storage::testing
