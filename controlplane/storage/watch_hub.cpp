#include "controlplane/storage/watch_hub.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "controlplane/storage/end_watcher.h"

namespace berth::controlplane::storage {

// Core (declared in the header) holds these types, so they may not be in an anonymous namespace.
namespace watch_hub_detail {

using Batch = std::shared_ptr<const std::vector<Event>>;

// What a watcher is owed, in order: a committed batch (batch set) or a progress notification.
struct Item {
  Batch batch;
  std::int64_t progress = 0;
};

struct HubWatcher {
  std::uint64_t id = 0;
  std::string start;
  std::string end;
  // Live events at or below it came with the catch-up (or are before the requested start).
  std::int64_t startRevision = 0;
  WatchCallbacks callbacks;
  // Cleared by the handle's destructor; checked before each callback.
  std::atomic<bool> active{true};
  // Guarded by Core::mu.
  bool ready = false;   // the catch-up is loaded: the dispatcher may deliver
  bool queued = false;  // in Core::dirty
  std::vector<Event> initial;
  std::deque<Item> inbox;

  bool wants(const Event& event) const {
    return event.kv.modRevision > startRevision && inRange(event.kv.key, start, end);
  }
};

}  // namespace watch_hub_detail

using namespace watch_hub_detail;

struct WatchHub::Core {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::int64_t revision = 0;
  HistoryReader history;
  std::map<std::uint64_t, std::shared_ptr<HubWatcher>> watchers;
  std::vector<std::shared_ptr<HubWatcher>> dirty;
  std::uint64_t nextId = 1;
  bool stopping = false;
  // Held by the dispatcher while it calls callbacks, so a handle's destructor can wait for a
  // call in flight.
  std::mutex deliverMu;
  std::thread thread;

  void markDirty(const std::shared_ptr<HubWatcher>& w) {
    if (!w->ready || w->queued) return;
    w->queued = true;
    dirty.push_back(w);
  }

  void remove(std::uint64_t id) { endWatcher(mu, watchers, id, deliverMu, thread); }

  void requestProgress(std::uint64_t id) {
    std::lock_guard lock(mu);
    auto it = watchers.find(id);
    if (it == watchers.end()) return;
    it->second->inbox.push_back(Item{nullptr, revision});
    markDirty(it->second);
    cv.notify_one();
  }

  static void deliver(HubWatcher& w, std::vector<Event>& initial, std::deque<Item>& items) {
    if (!initial.empty() && w.active && w.callbacks.onEvents) w.callbacks.onEvents(initial);
    for (const Item& item : items) {
      if (!w.active) return;
      if (!item.batch) {
        if (w.callbacks.onProgress) w.callbacks.onProgress(item.progress);
        continue;
      }
      if (!w.callbacks.onEvents) continue;
      std::size_t wanted = 0;
      for (const Event& event : *item.batch)
        wanted += w.wants(event) ? 1 : 0;
      if (wanted == item.batch->size()) {
        w.callbacks.onEvents(*item.batch);
      } else if (wanted > 0) {
        std::vector<Event> mine;
        mine.reserve(wanted);
        for (const Event& event : *item.batch) {
          if (w.wants(event)) mine.push_back(event);
        }
        w.callbacks.onEvents(mine);
      }
    }
  }

  // Nested so that it may name the Core (a private member of WatchHub).
  class Handle final : public WatchHandle {
   public:
    Handle(std::weak_ptr<Core> core, std::uint64_t id) : core_(std::move(core)), id_(id) {}
    ~Handle() override {
      if (auto core = core_.lock()) core->remove(id_);
    }
    void requestProgress() override {
      if (auto core = core_.lock()) core->requestProgress(id_);
    }

   private:
    std::weak_ptr<Core> core_;
    std::uint64_t id_;
  };

  void run() {
    struct Work {
      std::shared_ptr<HubWatcher> watcher;
      std::vector<Event> initial;
      std::deque<Item> items;
    };
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return stopping || !dirty.empty(); });
      if (stopping) return;
      std::vector<Work> work;
      work.reserve(dirty.size());
      for (auto& w : dirty) {
        w->queued = false;
        work.push_back(Work{w, std::exchange(w->initial, {}), std::exchange(w->inbox, {})});
      }
      dirty.clear();
      lock.unlock();
      {
        std::lock_guard deliverLock(deliverMu);
        for (Work& item : work)
          deliver(*item.watcher, item.initial, item.items);
      }
      work.clear();  // drops batches outside the lock
      lock.lock();
    }
  }
};

WatchHub::WatchHub(std::int64_t revision, HistoryReader history) : core_(std::make_shared<Core>()) {
  core_->revision = revision;
  core_->history = std::move(history);
  core_->thread = std::thread([core = core_.get()] { core->run(); });
}

WatchHub::~WatchHub() {
  {
    std::lock_guard lock(core_->mu);
    core_->stopping = true;
  }
  core_->cv.notify_all();
  core_->thread.join();
}

void WatchHub::publish(std::vector<Event> events, std::int64_t revision) {
  auto batch = std::make_shared<const std::vector<Event>>(std::move(events));
  std::lock_guard lock(core_->mu);
  core_->revision = std::max(core_->revision, revision);
  bool any = false;
  for (auto& [id, w] : core_->watchers) {
    bool touches = false;
    for (const Event& event : *batch) {
      if (w->wants(event)) {
        touches = true;
        break;
      }
    }
    if (!touches) continue;
    w->inbox.push_back(Item{batch, 0});
    core_->markDirty(w);
    any = true;
  }
  if (any) core_->cv.notify_one();
}

std::int64_t WatchHub::revision() const {
  std::lock_guard lock(core_->mu);
  return core_->revision;
}

Result<std::unique_ptr<WatchHandle>> WatchHub::watch(std::string_view prefix,
                                                     std::int64_t afterRevision,
                                                     WatchCallbacks callbacks) {
  auto w = std::make_shared<HubWatcher>();
  w->start = std::string(prefix);
  w->end = prefixEnd(prefix);
  w->callbacks = std::move(callbacks);
  afterRevision = std::max<std::int64_t>(afterRevision, 0);
  {
    std::lock_guard lock(core_->mu);
    if (core_->stopping) return fail(Code::kUnavailable, "watch {}: store closed", prefix);
    w->id = core_->nextId++;
    w->startRevision = std::max(afterRevision, core_->revision);
    core_->watchers.emplace(w->id, w);
  }
  // Registered before the catch-up is read: what commits meanwhile waits in the inbox, and the
  // catch-up ends exactly at startRevision, so nothing is lost or doubled.
  std::vector<Event> initial;
  if (afterRevision < w->startRevision) {
    auto history = core_->history(w->start, w->end, afterRevision, w->startRevision);
    if (!history) {
      core_->remove(w->id);
      return std::unexpected(std::move(history).error().context(fmt::format("watch {}", prefix)));
    }
    initial = std::move(*history);
  }
  {
    std::lock_guard lock(core_->mu);
    w->initial = std::move(initial);
    w->ready = true;
    if (!w->initial.empty() || !w->inbox.empty()) {
      core_->markDirty(w);
      core_->cv.notify_one();
    }
  }
  return std::unique_ptr<WatchHandle>(std::make_unique<Core::Handle>(core_, w->id));
}

}  // namespace berth::controlplane::storage
