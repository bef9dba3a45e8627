#pragma once
// The body every queue-driven controller shares (the processNextWorkItem loop of upstream's
// controllers): keys ("namespace/name") into a rate-limited work queue, `workers` threads taking
// them, sync(key) on each; an error logs and requeues the key with backoff, success forgets its
// failures. A key is never synced by two workers at once (the work queue's guarantee).
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "kubeapi/object_cache.h"
#include "kubeapi/work_queue.h"

namespace berth::controlplane::controllers {

class QueueWorker {
 public:
  using Sync = std::function<Status(const std::string& key)>;

  QueueWorker(std::string name, Sync sync);
  ~QueueWorker();  // stop()

  void start(int workers);
  void stop();

  void add(const std::string& key) { queue_.add(key); }
  void addAfter(const std::string& key, std::chrono::nanoseconds delay) {
    queue_.addAfter(key, delay);
  }
  void addObject(const kubeapi::ObjectPtr& obj) { add(keyOf(*obj)); }
  kubeapi::WorkQueue& queue() { return queue_; }

  // "namespace/name", or "name" for a cluster-scoped object (client-go's MetaNamespaceKeyFunc).
  static std::string keyOf(const nlohmann::json& obj);
  // The key split back ({"", name} for a cluster-scoped one).
  static std::pair<std::string, std::string> splitKey(const std::string& key);

 private:
  void work();

  std::string name_;
  Sync sync_;
  kubeapi::WorkQueue queue_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::controlplane::controllers
