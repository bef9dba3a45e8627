#pragma once
// kube-controller-manager's "ttl-after-finished" (pkg/controller/ttlafterfinished): a Job with
// spec.ttlSecondsAfterFinished is deleted (Foreground, so its pods go first) that many seconds
// after its Complete or Failed condition turned True.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"
#include "kubeapi/meta_time.h"

namespace berth::kubeapi {
class SharedInformer;
}

namespace berth::controlplane::controllers {

// When the finished Job expires: nullopt when it has no TTL, is not finished or is being
// deleted; an error when it finished but the condition carries no time.
[[nodiscard]] Result<std::optional<kubeapi::Time>> jobExpiry(const nlohmann::json& job);

class TtlAfterFinishedController final : public Controller {
 public:
  explicit TtlAfterFinishedController(ControllerContext& context);
  ~TtlAfterFinishedController() override;

  void start() override;
  void stop() override;

 private:
  Status sync(const std::string& key);

  ControllerContext& context_;
  kubeapi::SharedInformer* jobs_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
