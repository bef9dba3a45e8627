#pragma once
// client-go's SharedInformerFactory: one informer per resource, shared by every controller that
// asks for it (the scheduler and the controllers of `berth up` watch pods and nodes once, and
// keep one cache of each). Informers are created on first use and started by start(); one asked
// for after start() starts at once.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "kubeapi/group_version.h"
#include "kubeapi/shared_informer.h"

namespace berth::kubeapi {

class RestClient;

class InformerFactory {
 public:
  explicit InformerFactory(std::shared_ptr<RestClient> client,
                           std::chrono::milliseconds defaultResync = std::chrono::milliseconds(0));
  ~InformerFactory();  // stops every informer

  // The informer of a resource (all namespaces for a namespaced one). Add indexes right after
  // the first call, before start().
  SharedInformer& informer(const GroupVersionResource& gvr, bool namespaced = true);

  void start();
  // Every informer started so far has listed once; false on timeout.
  bool waitForCacheSync(std::chrono::milliseconds timeout) const;
  void stop();

  const std::shared_ptr<RestClient>& client() const { return client_; }

 private:
  std::shared_ptr<RestClient> client_;
  std::chrono::milliseconds defaultResync_;
  mutable std::mutex mu_;
  std::map<GroupVersionResource, std::unique_ptr<SharedInformer>> informers_;
  bool started_ = false;
};

}  // namespace berth::kubeapi
