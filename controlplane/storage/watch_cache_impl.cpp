#include "controlplane/storage/watch_cache_impl.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <shared_mutex>
#include <thread>

#include "controlplane/storage/end_watcher.h"
#include "controlplane/storage/storage_log.h"

namespace berth::controlplane::storage {

// Core (declared in the header) holds these types, so they may not be in an anonymous namespace.
namespace watch_cache_detail {

using Clock = std::chrono::steady_clock;

// A committed change as the window keeps it.
struct CacheEvent {
  Event::Type type = Event::Type::kPut;
  std::string key;
  ObjectPtr object;  // kPut: the new state; kDelete: the last state at the delete's revision
  ObjectPtr prev;    // the state before, with its own resourceVersion; null for a create
  std::int64_t revision = 0;
  // prev at this event's revision: what a watcher gets as DELETED when the object leaves its
  // filter. Made once, on first need, by the dispatch thread (its only reader).
  mutable ObjectPtr prevAtRevision;
};
using CacheEventPtr = std::shared_ptr<const CacheEvent>;

// A backend event, decoded on the backend's thread before it is queued.
struct Decoded {
  Event::Type type = Event::Type::kPut;
  std::string key;
  std::int64_t revision = 0;
  ObjectPtr object;  // kPut; null when the value did not decode
};

// What the backend watch hands the dispatch thread: events, a progress mark, or its end.
struct Input {
  std::vector<Decoded> events;
  std::int64_t progress = 0;
  std::optional<Error> error;
};

struct CacheWatcher {
  std::uint64_t id = 0;
  WatchCache::WatchOptions options;
  WatchCache::Sink sink;
  // Live events at or below it are not this watcher's: they came with the catch-up or precede
  // the requested start.
  std::int64_t startRevision = 0;
  std::atomic<bool> active{true};
  // Set at registration, then the dispatch thread's alone.
  bool initialized = false;
  std::vector<CachedObject> initialObjects;  // afterRevision 0
  std::vector<CacheEventPtr> initialEvents;  // a resume from the window
  Clock::time_point lastSent;
};

bool matches(std::string_view key, std::string_view keyPrefix) {
  if (!keyPrefix.empty() && keyPrefix.back() == '/') return key.starts_with(keyPrefix);
  return key == keyPrefix;
}

bool passes(const WatchCache::Filter& filter, const ObjectPtr& object) {
  return object && (!filter || filter(object->json()));
}

// A copy of the object with another resourceVersion (DELETED events carry the delete's).
ObjectPtr restamp(const ObjectPtr& object, std::int64_t revision) {
  nlohmann::json copy = object->json();
  auto metadata = copy.find("metadata");
  if (metadata != copy.end() && metadata->is_object()) {
    (*metadata)["resourceVersion"] = std::to_string(revision);
  }
  return std::make_shared<const StoredObject>(std::move(copy));
}

template <class Map, class F>
void forEachMatching(const Map& objects, std::string_view keyPrefix, F&& f) {
  if (keyPrefix.empty() || keyPrefix.back() != '/') {
    if (auto it = objects.find(keyPrefix); it != objects.end()) f(it->second);
    return;
  }
  for (auto it = objects.lower_bound(keyPrefix);
       it != objects.end() && it->first.starts_with(keyPrefix); ++it) {
    f(it->second);
  }
}

}  // namespace watch_cache_detail

using namespace watch_cache_detail;

struct WatchCacheImpl::Core {
  Core(Backend& b, WatchCacheOptions o) : backend(b), options(std::move(o)) {}

  Backend& backend;
  WatchCacheOptions options;

  // The state: written by the dispatch thread only, under stateMu held exclusively.
  mutable std::shared_mutex stateMu;
  std::map<std::string, CachedObject, std::less<>> objects;
  std::deque<CacheEventPtr> window;
  std::int64_t windowStart = 0;  // the oldest revision a watch may resume after
  std::atomic<std::int64_t> revision{0};
  mutable std::mutex revMu;  // with revCv: waitForRevision
  mutable std::condition_variable revCv;

  std::mutex queueMu;
  std::condition_variable queueCv;
  std::deque<Input> inputs;
  std::map<std::uint64_t, std::shared_ptr<CacheWatcher>> watchers;
  std::uint64_t nextId = 1;
  bool pendingInit = false;
  bool stopping = false;

  // Held by the dispatch thread while it calls sinks, so a handle's destructor can wait for a
  // call in flight.
  std::mutex deliverMu;
  mutable std::mutex backendWatchMu;
  std::unique_ptr<WatchHandle> backendWatch;
  std::thread thread;

  class Handle final : public WatchHandle {
   public:
    Handle(std::weak_ptr<Core> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
    ~Handle() override {
      if (auto core = core_.lock()) core->remove(id_);
    }

   private:
    std::weak_ptr<Core> core_;
    std::uint64_t id_;
  };

  void push(Input input) {
    {
      std::lock_guard lock(queueMu);
      inputs.push_back(std::move(input));
    }
    queueCv.notify_one();
  }

  WatchCallbacks backendCallbacks() {
    WatchCallbacks cb;
    cb.onEvents = [this](std::span<const Event> events) {
      Input input;
      input.events.reserve(events.size());
      for (const Event& event : events) {
        Decoded d{event.type, event.kv.key, event.kv.modRevision, nullptr};
        if (event.type == Event::Type::kPut) {
          if (auto object = options.decode(event.kv); object) {
            d.object = std::make_shared<const StoredObject>(std::move(*object));
          } else {
            storageLog()->warn("watch cache: skipping revision {}: {}", event.kv.modRevision,
                               object.error().message());
          }
        }
        input.events.push_back(std::move(d));
      }
      push(std::move(input));
    };
    cb.onError = [this](const Error& error) { push(Input{{}, 0, error}); };
    cb.onProgress = [this](std::int64_t revision) { push(Input{{}, revision, std::nullopt}); };
    return cb;
  }

  void setRevision(std::int64_t value) {
    revision = value;
    { std::lock_guard lock(revMu); }  // a waiter between its check and its wait sees the store
    revCv.notify_all();
  }

  // Lists the backend, replaces the state with it and watches from its revision.
  Status listAndWatch() {
    auto end = prefixEnd(options.prefix);
    auto listed = BERTH_TRY(backend.range(options.prefix, end, 0, 0));
    std::map<std::string, CachedObject, std::less<>> fresh;
    for (auto& kv : listed.kvs) {
      auto object = options.decode(kv);
      if (!object) {
        storageLog()->warn("watch cache: skipping {}: {}", kv.key, object.error().message());
        continue;
      }
      auto ptr = std::make_shared<const StoredObject>(std::move(*object));
      fresh.emplace(kv.key, CachedObject{kv.key, std::move(ptr), kv.modRevision});
    }
    auto handle = BERTH_TRY(backend.watch(options.prefix, listed.revision, backendCallbacks()));
    {
      std::unique_lock state(stateMu);
      objects = std::move(fresh);
      window.clear();
      windowStart = listed.revision;
      setRevision(std::max(revision.load(), listed.revision));
    }
    std::lock_guard lock(backendWatchMu);
    backendWatch = std::move(handle);
    return {};
  }

  void apply(std::vector<Decoded>& events, std::vector<CacheEventPtr>& applied) {
    std::unique_lock state(stateMu);
    // Events at or below the cache's revision were in the list it started from. One
    // transaction's events share a revision and come in one call, so the floor is the batch's.
    const std::int64_t floor = revision;
    std::int64_t newest = floor;
    for (Decoded& d : events) {
      if (d.revision <= floor) continue;
      newest = std::max(newest, d.revision);
      auto it = objects.find(d.key);
      ObjectPtr prev = it != objects.end() ? it->second.object : nullptr;
      auto event = std::make_shared<CacheEvent>();
      event->type = d.type;
      event->key = d.key;
      event->prev = prev;
      event->revision = d.revision;
      if (d.type == Event::Type::kPut) {
        if (!d.object) continue;  // did not decode: logged, the old state stays
        event->object = d.object;
        if (it != objects.end()) {
          it->second = CachedObject{d.key, d.object, d.revision};
        } else {
          objects.emplace(d.key, CachedObject{d.key, d.object, d.revision});
        }
      } else {
        if (!prev) continue;  // a key the cache never held (its value did not decode)
        event->object = restamp(prev, d.revision);
        objects.erase(it);
      }
      window.push_back(event);
      applied.push_back(std::move(event));
      while (window.size() > options.eventWindow && !window.empty()) {
        windowStart = window.front()->revision;
        window.pop_front();
      }
    }
    if (newest > revision) setRevision(newest);
  }

  void progress(std::int64_t value) {
    std::unique_lock state(stateMu);
    if (value > revision) setRevision(value);
  }

  // The backend watch ended (compacted past it, or the backend is gone): list again, watch
  // again, and end every watcher, since events between the two may be lost to them.
  void relist(const Error& why) {
    storageLog()->warn("watch cache {}: backend watch ended ({}), re-listing", options.prefix,
                       why.message());
    std::unique_ptr<WatchHandle> old;
    {
      std::lock_guard lock(backendWatchMu);
      old = std::move(backendWatch);
    }
    old.reset();
    while (true) {
      auto status = listAndWatch();
      if (status) break;
      storageLog()->warn("watch cache {}: re-list: {}", options.prefix, status.error().message());
      std::unique_lock lock(queueMu);
      if (queueCv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; })) return;
    }
    std::vector<std::shared_ptr<CacheWatcher>> ended;
    {
      std::lock_guard lock(queueMu);
      for (auto& [id, w] : watchers)
        ended.push_back(w);
      watchers.clear();
    }
    std::lock_guard deliverLock(deliverMu);
    WatchEvent event;
    event.type = WatchEvent::Type::kError;
    event.revision = revision;
    event.error =
        Error(Code::kUnavailable, fmt::format("watch cache {} re-listed at revision {} after: {}",
                                              options.prefix, revision.load(), why.message()));
    for (auto& w : ended) {
      if (w->active.exchange(false)) w->sink(event);
    }
  }

  bool send(CacheWatcher& w, const WatchEvent& event) {
    if (!w.active) return false;
    w.lastSent = Clock::now();
    if (!w.sink(event)) w.active = false;
    return w.active;
  }

  // One window event for one watcher, with the filter transitions the apiserver's cacher makes.
  void deliver(CacheWatcher& w, const CacheEvent& event, bool live) {
    if (live && event.revision <= w.startRevision) return;
    if (!matches(event.key, w.options.keyPrefix)) return;
    const auto& filter = w.options.filter;
    bool was = passes(filter, event.prev);
    WatchEvent out;
    out.key = event.key;
    out.revision = event.revision;
    if (event.type == Event::Type::kDelete) {
      if (!was) return;
      out.type = WatchEvent::Type::kDeleted;
      out.object = event.object;
    } else if (passes(filter, event.object)) {
      out.type = was ? WatchEvent::Type::kModified : WatchEvent::Type::kAdded;
      out.object = event.object;
    } else if (was) {
      // Left the filter: DELETED with the previous state at this event's revision.
      if (!event.prevAtRevision) event.prevAtRevision = restamp(event.prev, event.revision);
      out.type = WatchEvent::Type::kDeleted;
      out.object = event.prevAtRevision;
    } else {
      return;
    }
    send(w, out);
  }

  void init(CacheWatcher& w) {
    w.initialized = true;
    w.lastSent = Clock::now();
    if (w.options.afterRevision <= 0) {
      for (const CachedObject& item : w.initialObjects) {
        if (!passes(w.options.filter, item.object)) continue;
        if (!send(w, WatchEvent{WatchEvent::Type::kAdded, item.key, item.object, item.revision})) {
          break;
        }
      }
      if (w.options.sendInitialEvents) {
        WatchEvent end{WatchEvent::Type::kBookmark, {}, nullptr, w.startRevision};
        end.initialEventsEnd = true;
        send(w, end);
      }
    } else {
      for (const auto& event : w.initialEvents) {
        if (!w.active) break;
        deliver(w, *event, false);
      }
    }
    w.initialObjects = {};
    w.initialEvents = {};
  }

  // Hands the applied events to every watcher (catch-ups first) and sends the bookmarks that are
  // due; returns when the next bookmark is due.
  std::optional<Clock::time_point> deliverAll(
      const std::vector<std::shared_ptr<CacheWatcher>>& list,
      const std::vector<CacheEventPtr>& applied, std::vector<std::uint64_t>& dropped) {
    std::lock_guard deliverLock(deliverMu);
    std::optional<Clock::time_point> next;
    std::int64_t current = revision;
    for (const auto& w : list) {
      if (!w->active) continue;
      if (!w->initialized) init(*w);
      for (const auto& event : applied) {
        if (!w->active) break;
        deliver(*w, *event, true);
      }
      auto interval = w->options.bookmarkInterval;
      if (w->active && interval.count() > 0) {
        auto now = Clock::now();
        if (now - w->lastSent >= interval) {
          // Never a bookmark behind where the watcher asked to start.
          if (current >= w->startRevision) {
            send(*w, WatchEvent{WatchEvent::Type::kBookmark, {}, nullptr, current});
          } else {
            w->lastSent = now;
          }
        }
        auto due = w->lastSent + interval;
        if (!next || due < *next) next = due;
      }
      if (!w->active) dropped.push_back(w->id);
    }
    return next;
  }

  void run() {
    std::optional<Clock::time_point> nextBookmark;
    std::unique_lock lock(queueMu);
    while (true) {
      auto ready = [&] { return stopping || !inputs.empty() || pendingInit; };
      if (nextBookmark) {
        queueCv.wait_until(lock, *nextBookmark, ready);
      } else {
        queueCv.wait(lock, ready);
      }
      if (stopping) return;
      auto batch = std::exchange(inputs, {});
      pendingInit = false;
      lock.unlock();

      std::vector<CacheEventPtr> applied;
      for (Input& input : batch) {
        if (input.error) {
          relist(*input.error);
        } else if (!input.events.empty()) {
          apply(input.events, applied);
        } else {
          progress(input.progress);
        }
      }
      // The watcher list is read after the batch is applied: a watcher registered before that
      // is in the list, one registered after it has the batch in its catch-up.
      std::vector<std::shared_ptr<CacheWatcher>> list;
      lock.lock();
      list.reserve(watchers.size());
      for (auto& [id, w] : watchers)
        list.push_back(w);
      lock.unlock();
      std::vector<std::uint64_t> dropped;
      nextBookmark = deliverAll(list, applied, dropped);
      applied.clear();
      batch.clear();
      list.clear();
      lock.lock();
      for (auto id : dropped)
        watchers.erase(id);
    }
  }

  void remove(std::uint64_t id) { endWatcher(queueMu, watchers, id, deliverMu, thread); }

  void stop() {
    {
      std::lock_guard lock(queueMu);
      stopping = true;
    }
    queueCv.notify_all();
    if (thread.joinable()) thread.join();
    std::unique_ptr<WatchHandle> handle;
    {
      std::lock_guard lock(backendWatchMu);
      handle = std::move(backendWatch);
    }
    handle.reset();  // no backend callback after this
  }
};

Result<std::unique_ptr<WatchCache>> WatchCacheImpl::start(Backend& backend,
                                                          WatchCacheOptions options) {
  if (!options.decode) options.decode = decodeObject;
  auto core = std::make_shared<Core>(backend, std::move(options));
  // A compaction between the list and the watch makes the watch's start too old: list again.
  Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    status = core->listAndWatch();
    if (status || status.error().code() != Code::kOutOfRange) break;
  }
  if (!status) {
    return std::unexpected(
        std::move(status).error().context(fmt::format("watch cache {}", core->options.prefix)));
  }
  core->thread = std::thread([raw = core.get()] { raw->run(); });
  return std::unique_ptr<WatchCache>(new WatchCacheImpl(std::move(core)));
}

WatchCacheImpl::~WatchCacheImpl() {
  core_->stop();
}

std::int64_t WatchCacheImpl::revision() const {
  return core_->revision;
}

Status WatchCacheImpl::waitForRevision(std::int64_t revision,
                                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(core_->revMu);
  if (!core_->revCv.wait_for(lock, timeout, [&] { return core_->revision >= revision; })) {
    return fail(Code::kDeadlineExceeded, "Too large resource version: {}, current: {}", revision,
                core_->revision.load());
  }
  return {};
}

Status WatchCacheImpl::waitForFresh(std::chrono::milliseconds timeout) const {
  auto current = BERTH_TRY(core_->backend.currentRevision());
  if (core_->revision >= current) return {};
  {
    // The newest writes may lie outside the cache's prefix: only a progress mark says so.
    std::lock_guard lock(core_->backendWatchMu);
    if (core_->backendWatch) core_->backendWatch->requestProgress();
  }
  return waitForRevision(current, timeout);
}

WatchCache::Snapshot WatchCacheImpl::list(std::string_view keyPrefix, const Filter& filter) const {
  Snapshot snapshot;
  {
    std::shared_lock state(core_->stateMu);
    snapshot.revision = core_->revision;
    forEachMatching(core_->objects, keyPrefix,
                    [&](const CachedObject& item) { snapshot.items.push_back(item); });
  }
  // The filter runs outside the lock: the dispatch thread need not wait for it.
  if (filter) {
    std::erase_if(snapshot.items,
                  [&](const CachedObject& item) { return !filter(item.object->json()); });
  }
  return snapshot;
}

std::optional<CachedObject> WatchCacheImpl::get(std::string_view key) const {
  std::shared_lock state(core_->stateMu);
  auto it = core_->objects.find(key);
  if (it == core_->objects.end()) return std::nullopt;
  return it->second;
}

Result<std::unique_ptr<WatchHandle>> WatchCacheImpl::watch(WatchOptions options, Sink sink) {
  if (!sink) return fail(Code::kInvalidArgument, "watch {}: no sink", options.keyPrefix);
  auto w = std::make_shared<CacheWatcher>();
  w->options = std::move(options);
  w->sink = std::move(sink);
  auto after = w->options.afterRevision;
  {
    // Shared: the dispatch thread cannot apply a batch while the catch-up is taken and the
    // watcher registered, so the batch is either in the catch-up or delivered live.
    std::shared_lock state(core_->stateMu);
    std::int64_t current = core_->revision;
    if (after <= 0) {
      forEachMatching(core_->objects, w->options.keyPrefix,
                      [&](const CachedObject& item) { w->initialObjects.push_back(item); });
      w->startRevision = current;
    } else {
      if (after < core_->windowStart) {
        return fail(Code::kOutOfRange, "too old resource version: {} (oldest available: {})", after,
                    core_->windowStart);
      }
      auto first = std::upper_bound(
          core_->window.begin(), core_->window.end(), after,
          [](std::int64_t rev, const CacheEventPtr& event) { return rev < event->revision; });
      for (auto it = first; it != core_->window.end(); ++it) {
        if (matches((*it)->key, w->options.keyPrefix)) w->initialEvents.push_back(*it);
      }
      w->startRevision = std::max(after, current);
    }
    std::lock_guard lock(core_->queueMu);
    if (core_->stopping) {
      return fail(Code::kUnavailable, "watch {}: the cache is stopping", w->options.keyPrefix);
    }
    w->id = core_->nextId++;
    core_->watchers.emplace(w->id, w);
    core_->pendingInit = true;
  }
  core_->queueCv.notify_one();
  return std::unique_ptr<WatchHandle>(std::make_unique<Core::Handle>(core_, w->id));
}

}  // namespace berth::controlplane::storage
