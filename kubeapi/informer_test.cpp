// Informers with a scripted lister-watcher: the reflector's state machine (list, watch from
// the list's version, bookmarks, 410 -> consistent relist, dropped watch -> re-watch with
// backoff), the indexed cache, the shared informer's handlers and resync.
#include <gtest/gtest.h>

#include <deque>
#include <thread>

#include "kubeapi/object_meta.h"
#include "kubeapi/shared_informer.h"
#include "kubeapi/status_errors.h"

namespace berth::kubeapi {
namespace {

using namespace std::chrono;
using json = nlohmann::json;

json pod(const std::string& name, const std::string& rv, const std::string& ns = "default",
         const std::string& node = "") {
  json p = {{"metadata", {{"name", name}, {"namespace", ns}, {"resourceVersion", rv}}}};
  if (!node.empty()) p["spec"]["nodeName"] = node;
  return p;
}

json podList(const std::string& rv, std::vector<json> items, const std::string& cont = "") {
  json l = {{"kind", "PodList"},
            {"apiVersion", "v1"},
            {"metadata", {{"resourceVersion", rv}}},
            {"items", items}};
  if (!cont.empty()) l["metadata"]["continue"] = cont;
  return l;
}

WatchNext event(WatchEvent::Type type, json obj) {
  return {WatchNext::Kind::kEvent, {type, std::move(obj)}, std::nullopt};
}
WatchNext closed(std::optional<ApiError> error = std::nullopt) {
  return {WatchNext::Kind::kClosed, {}, std::move(error)};
}

// Hands out scripted steps, then blocks until stopped.
class FakeWatcher final : public Watcher {
 public:
  explicit FakeWatcher(std::deque<WatchNext> steps) : steps_(std::move(steps)) {}
  WatchNext next(milliseconds timeout) override {
    std::unique_lock lock(mu_);
    if (!steps_.empty()) {
      auto n = std::move(steps_.front());
      steps_.pop_front();
      return n;
    }
    if (cv_.wait_for(lock, timeout, [&] { return stopped_; })) return closed();
    return {};
  }
  void stop() override {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchNext> steps_;
  bool stopped_ = false;
};

class FakeListerWatcher final : public ListerWatcher {
 public:
  using WatchResult = ApiResult<std::deque<WatchNext>>;

  void addList(ApiResult<json> r) {
    std::lock_guard lock(mu_);
    lists_.push_back(std::move(r));
  }
  void addWatch(WatchResult r) {
    std::lock_guard lock(mu_);
    watches_.push_back(std::move(r));
  }

  ApiResult<json> list(const ListOptions& o) override {
    std::lock_guard lock(mu_);
    listCalls.push_back(o);
    cv_.notify_all();
    if (lists_.empty())
      return std::unexpected(ApiError::fromStatus(internalErrorStatus("no list")));
    auto r = std::move(lists_.front());
    lists_.pop_front();
    return r;
  }

  ApiResult<std::unique_ptr<Watcher>> watch(const ListOptions& o) override {
    std::lock_guard lock(mu_);
    watchCalls.push_back(o);
    cv_.notify_all();
    if (watches_.empty()) return std::unique_ptr<Watcher>(new FakeWatcher({}));
    auto r = std::move(watches_.front());
    watches_.pop_front();
    if (!r) return std::unexpected(std::move(r).error());
    return std::unique_ptr<Watcher>(new FakeWatcher(std::move(*r)));
  }

  // Waits until `n` watches were asked for.
  bool waitForWatches(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return watchCalls.size() >= n; });
  }

  std::vector<ListOptions> listCalls;
  std::vector<ListOptions> watchCalls;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ApiResult<json>> lists_;
  std::deque<WatchResult> watches_;
};

class RecordingStore final : public ReflectorStore {
 public:
  void replace(std::vector<json> items, const std::string& rv) override {
    std::string s = "replace " + rv + ":";
    for (auto& i : items)
      s += " " + std::string(kindOf(i)) + "/" + std::string(nameOf(i));
    log.push_back(s);
  }
  void added(json obj) override { log.push_back("added " + std::string(nameOf(obj))); }
  void modified(json obj) override { log.push_back("modified " + std::string(nameOf(obj))); }
  void deleted(json obj) override { log.push_back("deleted " + std::string(nameOf(obj))); }
  std::vector<std::string> log;
};

ReflectorOptions fastOptions() {
  return {.pageSize = 2,
          .backoff = {.initial = 1ms, .factor = 1, .jitter = 0, .cap = 1ms},
          .pollInterval = 5ms};
}

// Runs the reflector until `watches` watches were asked for, then stops it.
void runUntilWatches(Reflector& r, FakeListerWatcher& lw, size_t watches) {
  std::thread t([&] { r.run(); });
  EXPECT_TRUE(lw.waitForWatches(watches));
  r.stop();
  t.join();
}

TEST(Reflector, ListsThenWatchesFromTheListsVersion) {
  FakeListerWatcher lw;
  RecordingStore store;
  FakeClock clock;
  lw.addList(podList("10", {pod("a", "8"), pod("b", "9")}));
  lw.addWatch(std::deque<WatchNext>{
      event(WatchEvent::Type::kAdded, pod("c", "11")),
      event(WatchEvent::Type::kModified, pod("a", "12")),
      event(WatchEvent::Type::kBookmark, {{"metadata", {{"resourceVersion", "15"}}}}),
      event(WatchEvent::Type::kDeleted, pod("b", "16")),
      event(WatchEvent::Type::kBookmark, {{"metadata", {{"resourceVersion", "20"}}}}),
      closed(),  // the server's timeout: watch again from the last version
  });
  Reflector r(lw, store, fastOptions(), clock);
  runUntilWatches(r, lw, 2);
  EXPECT_EQ(store.log, (std::vector<std::string>{"replace 10: Pod/a Pod/b", "added c", "modified a",
                                                 "deleted b"}));
  ASSERT_EQ(lw.listCalls.size(), 1u);
  EXPECT_EQ(lw.listCalls[0].resourceVersion, "0");  // first list: from the server's cache
  EXPECT_EQ(lw.listCalls[0].limit, 2);
  ASSERT_GE(lw.watchCalls.size(), 2u);
  EXPECT_EQ(lw.watchCalls[0].resourceVersion, "10");
  EXPECT_TRUE(lw.watchCalls[0].allowWatchBookmarks);
  EXPECT_GE(*lw.watchCalls[0].timeoutSeconds, 300);
  EXPECT_LE(*lw.watchCalls[0].timeoutSeconds, 600);
  EXPECT_EQ(lw.watchCalls[1].resourceVersion, "20");  // the bookmark's version
  EXPECT_EQ(r.stats().backoffs, 0);
  EXPECT_TRUE(r.hasSynced());
}

TEST(Reflector, ExpiredMeansAConsistentRelist) {
  FakeListerWatcher lw;
  RecordingStore store;
  FakeClock clock;
  lw.addList(podList("10", {pod("a", "8")}));
  lw.addWatch(std::deque<WatchNext>{
      event(WatchEvent::Type::kAdded, pod("b", "11")),
      event(WatchEvent::Type::kError, tooOldResourceVersionStatus(11, 40).toJson()),
  });
  lw.addList(podList("50", {pod("b", "11"), pod("c", "45")}));
  lw.addWatch(std::unexpected(ApiError::fromStatus(tooOldResourceVersionStatus(50, 60))));
  lw.addList(podList("70", {pod("c", "45")}));
  Reflector r(lw, store, fastOptions(), clock);
  runUntilWatches(r, lw, 3);
  ASSERT_EQ(lw.listCalls.size(), 3u);
  EXPECT_EQ(lw.listCalls[1].resourceVersion, "");  // after a 410: a consistent list
  EXPECT_EQ(lw.listCalls[2].resourceVersion, "");
  EXPECT_EQ(lw.watchCalls[1].resourceVersion, "50");
  EXPECT_EQ(lw.watchCalls[2].resourceVersion, "70");
  EXPECT_EQ(store.log.back(), "replace 70: Pod/c");
  EXPECT_EQ(r.stats().expired, 2);
  EXPECT_EQ(r.stats().backoffs, 0);  // a relist for 410 is immediate
}

TEST(Reflector, ADroppedWatchResumesFromTheLastVersionAfterABackoff) {
  FakeListerWatcher lw;
  RecordingStore store;
  FakeClock clock;
  lw.addList(podList("10", {}));
  lw.addWatch(std::deque<WatchNext>{
      event(WatchEvent::Type::kAdded, pod("a", "11")),
      closed(ApiError::transport(Error(Code::kUnavailable, "connection reset"))),
  });
  lw.addWatch(std::unexpected(ApiError::transport(Error(Code::kUnavailable, "refused"))));
  lw.addWatch(std::unexpected(ApiError::fromStatus(tooManyRequestsStatus("busy", 1))));
  Reflector r(lw, store, fastOptions(), clock);
  runUntilWatches(r, lw, 4);
  EXPECT_EQ(lw.listCalls.size(), 1u);  // no relist: the watch picks up where it was
  for (size_t i = 1; i < 4; ++i)
    EXPECT_EQ(lw.watchCalls[i].resourceVersion, "11") << i;
  EXPECT_EQ(r.stats().backoffs, 3);
}

TEST(Reflector, PagesAndFallsBackToAFullListWhenTheTokenExpires) {
  FakeListerWatcher lw;
  RecordingStore store;
  FakeClock clock;
  lw.addList(podList("10", {pod("a", "1"), pod("b", "2")}, "tok1"));
  lw.addList(podList("10", {pod("c", "3")}));
  Reflector r(lw, store, fastOptions(), clock);
  runUntilWatches(r, lw, 1);
  ASSERT_EQ(lw.listCalls.size(), 2u);
  EXPECT_EQ(lw.listCalls[1].continueToken, "tok1");
  EXPECT_EQ(lw.listCalls[1].resourceVersion, "");
  EXPECT_EQ(store.log, (std::vector<std::string>{"replace 10: Pod/a Pod/b Pod/c"}));

  FakeListerWatcher lw2;
  RecordingStore store2;
  lw2.addList(podList("10", {pod("a", "1"), pod("b", "2")}, "tok1"));
  lw2.addList(std::unexpected(ApiError::fromStatus(resourceExpiredStatus("continue expired"))));
  lw2.addList(podList("12", {pod("a", "1"), pod("b", "2"), pod("c", "3")}));
  Reflector r2(lw2, store2, fastOptions(), clock);
  runUntilWatches(r2, lw2, 1);
  ASSERT_EQ(lw2.listCalls.size(), 3u);
  EXPECT_FALSE(lw2.listCalls[2].limit);
  EXPECT_EQ(lw2.listCalls[2].continueToken, "");
  EXPECT_EQ(store2.log, (std::vector<std::string>{"replace 12: Pod/a Pod/b Pod/c"}));
}

TEST(Reflector, OtherFailuresRelistAfterABackoff) {
  FakeListerWatcher lw;
  RecordingStore store;
  FakeClock clock;
  lw.addList(std::unexpected(ApiError::fromStatus(forbiddenStatus({"", "pods"}, "", "no"))));
  lw.addList(podList("10", {}));
  lw.addWatch(std::unexpected(ApiError::fromStatus(internalErrorStatus("boom"))));
  lw.addList(podList("11", {}));
  Reflector r(lw, store, fastOptions(), clock);
  runUntilWatches(r, lw, 2);
  ASSERT_EQ(lw.listCalls.size(), 3u);
  EXPECT_EQ(lw.listCalls[2].resourceVersion, "10");  // a relist not caused by 410 keeps it
  EXPECT_EQ(r.stats().backoffs, 2);
  EXPECT_EQ(r.lastSyncResourceVersion(), "11");
}

TEST(ObjectCache, IndexesByNamespaceAndCustomIndexes) {
  ObjectCache cache;
  ASSERT_TRUE(cache.addIndex("node", [](const json& p) {
    std::vector<std::string> out;
    if (p.contains("spec")) out.push_back(p["spec"].value("nodeName", ""));
    return out;
  }));
  EXPECT_FALSE(cache.addIndex("node", nullptr));
  auto put = [&](json j) { return cache.upsert(std::make_shared<const json>(std::move(j))); };
  EXPECT_FALSE(put(pod("a", "1", "ns1", "n1")));
  put(pod("b", "1", "ns1", "n2"));
  put(pod("c", "1", "ns2", "n1"));
  EXPECT_FALSE(cache.addIndex("late", nullptr));  // objects exist already
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.keys(), (std::vector<std::string>{"ns1/a", "ns1/b", "ns2/c"}));
  EXPECT_EQ(cache.inNamespace("ns1").size(), 2u);
  EXPECT_EQ(cache.byIndex("node", "n1").size(), 2u);
  // Moving a pod to another node moves it in the index.
  auto old = put(pod("a", "2", "ns1", "n2"));
  ASSERT_TRUE(old);
  EXPECT_EQ((*old)["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(cache.byIndex("node", "n1").size(), 1u);
  EXPECT_EQ(cache.byIndex("node", "n2").size(), 2u);
  EXPECT_TRUE(cache.remove("ns2/c"));
  EXPECT_FALSE(cache.remove("ns2/c"));
  EXPECT_TRUE(cache.byIndex("node", "n1").empty());
  EXPECT_EQ(cache.indexValues("namespace"), std::vector<std::string>{"ns1"});
  cache.replace({std::make_shared<const json>(pod("z", "9", "ns3", "n9"))});
  EXPECT_EQ(cache.keys(), std::vector<std::string>{"ns3/z"});
  EXPECT_EQ(cache.byIndex("node", "n9").size(), 1u);
  EXPECT_TRUE(cache.byIndex("node", "n2").empty());
  EXPECT_TRUE(cache.get("ns3", "z"));
}

// Handler events as strings, with a way to wait for a number of them.
class EventLog {
 public:
  ResourceEventHandler handler(std::string prefix = "") {
    return {
        .onAdd = [this, prefix](const ObjectPtr& o) { push(prefix + "add " + name(o)); },
        .onUpdate =
            [this, prefix](const ObjectPtr& a, const ObjectPtr& b) {
              push(prefix + "update " + name(a) + " " + rv(a) + "->" + rv(b));
            },
        .onDelete = [this, prefix](const ObjectPtr& o) { push(prefix + "delete " + name(o)); },
    };
  }
  bool waitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return events_.size() >= n; });
  }
  std::vector<std::string> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  static std::string name(const ObjectPtr& o) { return std::string(nameOf(*o)); }
  static std::string rv(const ObjectPtr& o) { return std::string(resourceVersionOf(*o)); }
  void push(std::string s) {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(s));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
};

TEST(SharedInformer, TellsHandlersAndKeepsTheCache) {
  auto lw = std::make_unique<FakeListerWatcher>();
  auto* fake = lw.get();
  fake->addList(podList("10", {pod("a", "1"), pod("b", "2")}));
  fake->addWatch(std::deque<WatchNext>{
      event(WatchEvent::Type::kModified, pod("a", "11")),
      event(WatchEvent::Type::kDeleted, pod("b", "12")),
      event(WatchEvent::Type::kAdded, pod("c", "13")),
      event(WatchEvent::Type::kError, tooOldResourceVersionStatus(13, 20).toJson()),
  });
  // The relist finds c gone (deleted while we weren't watching) and d new.
  fake->addList(podList("30", {pod("a", "11"), pod("d", "25")}));
  SharedInformer informer(std::move(lw), {.reflector = fastOptions()});
  EventLog log;
  informer.addEventHandler(log.handler());
  informer.start();
  ASSERT_TRUE(informer.waitForCacheSync(10s));
  ASSERT_TRUE(log.waitFor(8));
  EXPECT_EQ(log.events(),
            (std::vector<std::string>{"add a", "add b", "update a 1->11", "delete b", "add c",
                                      "update a 11->11", "add d", "delete c"}));
  EXPECT_EQ(informer.cache().keys(), (std::vector<std::string>{"default/a", "default/d"}));

  // A late handler first hears of everything cached.
  EventLog late;
  informer.addEventHandler(late.handler());
  ASSERT_TRUE(late.waitFor(2));
  EXPECT_EQ(late.events(), (std::vector<std::string>{"add a", "add d"}));
  EXPECT_TRUE(fake->waitForWatches(2));
  informer.stop();
  EXPECT_EQ(informer.lastSyncResourceVersion(), "30");
}

TEST(SharedInformer, ResyncHandsEverythingOutAgain) {
  auto lw = std::make_unique<FakeListerWatcher>();
  lw->addList(podList("10", {pod("a", "1")}));
  SharedInformer informer(std::move(lw), {.resyncPeriod = 10ms, .reflector = fastOptions()});
  EventLog log;
  informer.addEventHandler(log.handler());
  informer.start();
  ASSERT_TRUE(log.waitFor(3));
  informer.stop();
  auto events = log.events();
  EXPECT_EQ(events[0], "add a");
  EXPECT_EQ(events[1], "update a 1->1");
  EXPECT_EQ(events[2], "update a 1->1");
}

}  // namespace
}  // namespace berth::kubeapi
