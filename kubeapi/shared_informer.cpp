#include "kubeapi/shared_informer.h"

#include <set>

#include "kubeapi/object_meta.h"

namespace berth::kubeapi {

SharedInformer::SharedInformer(std::unique_ptr<ListerWatcher> lw, Options options, Clock& clock)
    : lw_(std::move(lw)), options_(options), reflector_(*lw_, *this, options.reflector, clock) {}

SharedInformer::~SharedInformer() {
  stop();
}

void SharedInformer::addEventHandler(ResourceEventHandler handler) {
  std::lock_guard lock(mu_);
  auto handlers = std::make_shared<std::vector<ResourceEventHandler>>(*handlers_);
  int index = static_cast<int>(handlers->size());
  handlers->push_back(std::move(handler));
  handlers_ = std::move(handlers);
  // A late handler learns what is already known, as client-go replays the cache to it.
  for (auto& obj : cache_.list())
    pending_.push_back({Notification::Kind::kAdd, nullptr, obj, index});
  cv_.notify_all();
}

void SharedInformer::start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  reflectorThread_ = std::thread([this] { reflector_.run(); });
  dispatchThread_ = std::thread([this] { dispatchLoop(); });
}

void SharedInformer::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  reflector_.stop();
  if (reflectorThread_.joinable()) reflectorThread_.join();
  if (dispatchThread_.joinable()) dispatchThread_.join();
}

bool SharedInformer::waitForCacheSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return hasSynced() || stopping_; }) && hasSynced();
}

void SharedInformer::notify(std::vector<Notification> batch) {
  {
    std::lock_guard lock(mu_);
    for (auto& n : batch)
      pending_.push_back(std::move(n));
  }
  cv_.notify_all();
}

void SharedInformer::replace(std::vector<nlohmann::json> items, const std::string&) {
  std::vector<ObjectPtr> objects;
  std::vector<Notification> batch;
  std::set<std::string> keys;
  objects.reserve(items.size());
  for (auto& item : items) {
    auto obj = std::make_shared<const nlohmann::json>(std::move(item));
    std::string key = objectKey(*obj);
    keys.insert(key);
    if (auto old = cache_.get(key)) {
      batch.push_back({Notification::Kind::kUpdate, old, obj});
    } else {
      batch.push_back({Notification::Kind::kAdd, nullptr, obj});
    }
    objects.push_back(std::move(obj));
  }
  for (auto& old : cache_.list()) {
    if (!keys.contains(objectKey(*old))) batch.push_back({Notification::Kind::kDelete, old, old});
  }
  cache_.replace(std::move(objects));
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  notify(std::move(batch));
}

void SharedInformer::added(nlohmann::json obj) {
  modified(std::move(obj));
}

void SharedInformer::modified(nlohmann::json obj) {
  auto ptr = std::make_shared<const nlohmann::json>(std::move(obj));
  auto old = cache_.upsert(ptr);
  notify({old ? Notification{Notification::Kind::kUpdate, old, ptr}
              : Notification{Notification::Kind::kAdd, nullptr, ptr}});
}

void SharedInformer::deleted(nlohmann::json obj) {
  auto ptr = std::make_shared<const nlohmann::json>(std::move(obj));
  cache_.remove(objectKey(*ptr));
  notify({Notification{Notification::Kind::kDelete, ptr, ptr}});
}

void SharedInformer::dispatchLoop() {
  using Steady = std::chrono::steady_clock;
  auto nextResync = Steady::now() + options_.resyncPeriod;
  bool resync = options_.resyncPeriod.count() > 0;
  std::unique_lock lock(mu_);
  while (true) {
    if (resync) {
      cv_.wait_until(lock, nextResync, [&] { return stopping_ || !pending_.empty(); });
    } else {
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    }
    if (stopping_) return;
    if (resync && Steady::now() >= nextResync) {
      nextResync = Steady::now() + options_.resyncPeriod;
      // Only a synced cache is worth replaying.
      if (hasSynced())
        for (auto& obj : cache_.list())
          pending_.push_back({Notification::Kind::kUpdate, obj, obj});
    }
    while (!pending_.empty() && !stopping_) {
      Notification n = std::move(pending_.front());
      pending_.pop_front();
      auto handlers = handlers_;  // handlers run unlocked: they may add handlers or read
      lock.unlock();
      for (size_t i = 0; i < handlers->size(); ++i) {
        if (n.handler >= 0 && static_cast<size_t>(n.handler) != i) continue;
        const auto& h = (*handlers)[i];
        switch (n.kind) {
          case Notification::Kind::kAdd:
            if (h.onAdd) h.onAdd(n.newObj);
            break;
          case Notification::Kind::kUpdate:
            if (h.onUpdate) h.onUpdate(n.oldObj, n.newObj);
            break;
          case Notification::Kind::kDelete:
            if (h.onDelete) h.onDelete(n.oldObj);
            break;
        }
      }
      lock.lock();
    }
  }
}

}  // namespace berth::kubeapi
