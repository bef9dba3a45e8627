#pragma once
// The Deployment controller of kube-controller-manager ("deployment",
// pkg/controller/deployment): one ReplicaSet per pod template, named
// "<deployment>-<pod-template-hash>", with revision annotations (what `kubectl rollout
// history|undo` read); RollingUpdate within maxSurge/maxUnavailable or Recreate; a scale change
// spread over the sets in proportion; paused Deployments only scale; old sets beyond
// revisionHistoryLimit deleted; status and the Progressing/Available conditions `kubectl rollout
// status` waits on, with progressDeadlineSeconds.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

class DeploymentController final : public Controller {
 public:
  explicit DeploymentController(ControllerContext& context);
  ~DeploymentController() override;

  void start() override;
  void stop() override;

 private:
  using Json = nlohmann::json;
  // A Deployment's sets during one sync: the one matching its template (if any) and the rest.
  struct Sets {
    std::optional<Json> newRS;
    std::vector<Json> oldRSs;
    std::vector<Json> all() const;
  };

  Status sync(const std::string& key);
  [[nodiscard]] Result<std::vector<Json>> claimReplicaSets(const Json& d);
  [[nodiscard]] Result<Sets> allReplicaSetsAndSyncRevision(Json& d, const std::vector<Json>& rsList,
                                                           bool createIfMissing);
  [[nodiscard]] Result<std::optional<Json>> newReplicaSet(Json& d, const std::vector<Json>& rsList,
                                                          const std::vector<Json>& oldRSs,
                                                          bool createIfMissing);
  [[nodiscard]] Result<bool> isScalingEvent(Json& d, const std::vector<Json>& rsList);
  Status syncScaleOnly(Json& d, const std::vector<Json>& rsList);
  Status scale(const Json& d, Sets& sets);
  Status rolloutRolling(Json& d, const std::vector<Json>& rsList);
  Status rolloutRecreate(Json& d, const std::vector<Json>& rsList);
  [[nodiscard]] Result<bool> reconcileOldReplicaSets(const Json& d, Sets& sets);
  [[nodiscard]] Result<int> cleanupUnhealthyReplicas(const Json& d, std::vector<Json*>& oldRSs,
                                                     int maxCleanup);
  [[nodiscard]] Result<int> scaleDownOldForRollingUpdate(const Json& d, Sets& sets,
                                                         std::vector<Json*>& oldRSs);
  bool oldPodsRunning(const Json& d, const Sets& sets, const std::vector<Json>& rsList) const;
  // Scales `rs` to newScale (and its replica annotations), updating it in place. True if the
  // size changed.
  [[nodiscard]] Result<bool> scaleReplicaSet(Json& rs, std::int32_t newScale, const Json& d);
  Status cleanupDeployment(const Json& d, const std::vector<Json>& oldRSs);
  Status checkPausedConditions(Json& d);
  Status syncRolloutStatus(Json& d, const Sets& sets);
  Status syncDeploymentStatus(Json& d, const Sets& sets);
  Status writeStatus(Json& d, Json status);
  void requeueStuckDeployment(const Json& d, const Json& newStatus);

  void enqueueOwnerOf(const nlohmann::json& rs);
  void enqueueMatchingDeployments(const nlohmann::json& rs);
  void replicaSetUpdated(const kubeapi::ObjectPtr& oldRs, const kubeapi::ObjectPtr& newRs);
  void podDeleted(const kubeapi::ObjectPtr& pod);

  kubeapi::SharedInformer& deployments_;
  kubeapi::SharedInformer& replicaSets_;
  kubeapi::SharedInformer& pods_;
  kubeapi::ResourceClient deploymentClient_;
  kubeapi::ResourceClient rsClient_;
  kubeapi::EventRecorder recorder_;
  int workers_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
