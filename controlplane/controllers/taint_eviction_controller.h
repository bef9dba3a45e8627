#pragma once
// kube-controller-manager's "taint-eviction-controller" (pkg/controller/tainteviction, the
// NoExecute taint manager): a pod on a node with a NoExecute taint it does not tolerate is
// deleted; one that tolerates every such taint for tolerationSeconds is deleted that long after
// the taint was added (the smallest such time); a toleration without tolerationSeconds keeps
// the pod for good.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"
#include "kubeapi/meta_time.h"

namespace berth::kubeapi {
class EventRecorder;
class SharedInformer;
}  // namespace berth::kubeapi

namespace berth::controlplane::controllers {

// When the pod must go given the node's NoExecute taints: nullopt when never (no such taint, or
// all tolerated for good), else the time (a past one for an untolerated taint). A taint without
// timeAdded counts from `firstSeen`.
std::optional<kubeapi::Time> evictionTime(const nlohmann::json& pod, const nlohmann::json& taints,
                                          kubeapi::Time firstSeen);

class TaintEvictionController final : public Controller {
 public:
  explicit TaintEvictionController(ControllerContext& context);
  ~TaintEvictionController() override;

  void start() override;
  void stop() override;

 private:
  Status sync(const std::string& podKey);
  void enqueuePodsOn(const std::string& nodeName);

  ControllerContext& context_;
  kubeapi::SharedInformer* nodes_;
  kubeapi::SharedInformer* pods_;
  std::unique_ptr<kubeapi::EventRecorder> recorder_;
  std::mutex mu_;
  std::map<std::string, kubeapi::Time> firstSeen_;  // pod key -> when seen tainted
  std::map<std::string, std::string> evicted_;      // pod key -> uid deleted
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
