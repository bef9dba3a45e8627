#pragma once
// client-go's shared informer: a reflector feeding an indexed cache, and event handlers told of
// every change (add, update, delete) on a thread of their own, so a slow handler never holds up
// the watch. Handlers added after the start first get an add for everything cached. With a
// resync period, every cached object is handed to the handlers again as an update (old ==
// new) that often, as client-go's resync does, so level-triggered controllers catch up.
//
// Deletes noticed through a relist (the object vanished while we were not watching) are
// reported with the last object we knew, as client-go's DeletedFinalStateUnknown carries it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kubeapi/clock.h"
#include "kubeapi/lister_watcher.h"
#include "kubeapi/object_cache.h"
#include "kubeapi/reflector.h"

namespace berth::kubeapi {

struct ResourceEventHandler {
  std::function<void(const ObjectPtr& obj)> onAdd;
  std::function<void(const ObjectPtr& oldObj, const ObjectPtr& newObj)> onUpdate;
  std::function<void(const ObjectPtr& obj)> onDelete;
};

struct SharedInformerOptions {
  std::chrono::milliseconds resyncPeriod{0};  // 0: no resync
  ReflectorOptions reflector{};
};

class SharedInformer final : private ReflectorStore {
 public:
  using Options = SharedInformerOptions;

  SharedInformer(std::unique_ptr<ListerWatcher> lw, Options options = {},
                 Clock& clock = RealClock::instance());
  ~SharedInformer() override;

  // Before start().
  bool addIndex(std::string name, IndexFunc fn) { return cache_.addIndex(std::move(name), fn); }
  void addEventHandler(ResourceEventHandler handler);

  void start();
  // Stops the reflector and the handler thread; waits for both. Idempotent.
  void stop();

  // The first list is in the cache.
  bool hasSynced() const { return synced_; }
  // Waits for hasSynced() (false on timeout or stop).
  bool waitForCacheSync(std::chrono::milliseconds timeout) const;
  const ObjectCache& cache() const { return cache_; }
  std::string lastSyncResourceVersion() const { return reflector_.lastSyncResourceVersion(); }
  ReflectorStats reflectorStats() const { return reflector_.stats(); }

 private:
  struct Notification {
    enum class Kind { kAdd, kUpdate, kDelete } kind;
    ObjectPtr oldObj;
    ObjectPtr newObj;
    int handler = -1;  // one handler only (its initial adds), or -1 for all
  };

  // ReflectorStore, on the reflector's thread.
  void replace(std::vector<nlohmann::json> items, const std::string& resourceVersion) override;
  void added(nlohmann::json obj) override;
  void modified(nlohmann::json obj) override;
  void deleted(nlohmann::json obj) override;

  void notify(std::vector<Notification> batch);
  void dispatchLoop();

  std::unique_ptr<ListerWatcher> lw_;
  Options options_;
  ObjectCache cache_;
  Reflector reflector_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Copied on write: the handler thread takes a snapshot per notification for free.
  std::shared_ptr<const std::vector<ResourceEventHandler>> handlers_ =
      std::make_shared<std::vector<ResourceEventHandler>>();
  std::atomic<bool> synced_{false};
  std::deque<Notification> pending_;
  bool started_ = false;
  bool stopping_ = false;
  std::thread reflectorThread_;
  std::thread dispatchThread_;
};

}  // namespace berth::kubeapi
