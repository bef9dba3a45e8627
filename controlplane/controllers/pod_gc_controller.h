#pragma once
// kube-controller-manager's "podgc" (pkg/controller/podgc): every --pod-gc period it force-deletes
// (grace 0) pods bound to a node that no longer exists, terminating pods that were never bound,
// and the oldest terminated (Succeeded/Failed) pods beyond --terminated-pod-gc-threshold.
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/controllers/controller.h"
#include "kubeapi/object_cache.h"

namespace berth::kubeapi {
class SharedInformer;
}

namespace berth::controlplane::controllers {

// The terminated pods to delete so that at most `threshold` remain (0: no limit), oldest
// (creationTimestamp) first.
std::vector<kubeapi::ObjectPtr> terminatedPodsOverThreshold(std::vector<kubeapi::ObjectPtr> pods,
                                                            int threshold);

class PodGcController final : public Controller {
 public:
  explicit PodGcController(ControllerContext& context);
  ~PodGcController() override;

  void start() override;
  void stop() override;

 private:
  void gc();
  void gcOrphaned(const std::vector<kubeapi::ObjectPtr>& pods);
  void gcUnscheduledTerminating(const std::vector<kubeapi::ObjectPtr>& pods);
  struct Disruption {
    std::string_view reason;
    std::string_view message;
  };
  void forceDelete(const nlohmann::json& pod, std::string_view why,
                   std::optional<Disruption> disruption = std::nullopt);
  void loop();

  ControllerContext& context_;
  kubeapi::SharedInformer* nodes_;
  kubeapi::SharedInformer* pods_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::controlplane::controllers
