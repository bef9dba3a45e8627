#include "kubeapi/informer_factory.h"

#include "kubeapi/lister_watcher.h"
#include "kubeapi/rest_client.h"

namespace berth::kubeapi {

InformerFactory::InformerFactory(std::shared_ptr<RestClient> client,
                                 std::chrono::milliseconds defaultResync)
    : client_(std::move(client)), defaultResync_(defaultResync) {}

InformerFactory::~InformerFactory() {
  stop();
}

SharedInformer& InformerFactory::informer(const GroupVersionResource& gvr, bool namespaced) {
  std::lock_guard lock(mu_);
  auto& slot = informers_[gvr];
  if (!slot) {
    slot = std::make_unique<SharedInformer>(
        std::make_unique<ResourceListerWatcher>(client_->resource(gvr, namespaced)),
        SharedInformerOptions{.resyncPeriod = defaultResync_});
    if (started_) slot->start();
  }
  return *slot;
}

void InformerFactory::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  for (auto& [gvr, informer] : informers_)
    informer->start();
}

bool InformerFactory::waitForCacheSync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<SharedInformer*> informers;
  {
    std::lock_guard lock(mu_);
    for (auto& [gvr, informer] : informers_)
      informers.push_back(informer.get());
  }
  for (auto* informer : informers) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!informer->waitForCacheSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

void InformerFactory::stop() {
  std::lock_guard lock(mu_);
  for (auto& [gvr, informer] : informers_)
    informer->stop();
}

}  // namespace berth::kubeapi
