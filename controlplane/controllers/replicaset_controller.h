#pragma once
// The ReplicaSet controller of kube-controller-manager ("replicaset",
// pkg/controller/replicaset): keeps spec.replicas active pods made from the template (named
// "<rs>-<random>", controlled by the ReplicaSet), adopting orphans its selector matches and
// releasing pods that no longer match; creates in slow-start batches, deletes the least useful
// pods first, waits for its own creations and deletions to reach the informer (expectations)
// before counting again, and writes status (replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas after minReadySeconds, observedGeneration, ReplicaFailure).
#include <memory>
#include <string>
#include <vector>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/expectations.h"
#include "controlplane/controllers/queue_worker.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

class ReplicaSetController final : public Controller {
 public:
  explicit ReplicaSetController(ControllerContext& context);
  ~ReplicaSetController() override;

  void start() override;
  void stop() override;

  // Upstream's burstReplicas: at most this many creations or deletions per sync.
  static constexpr int kBurstReplicas = 500;

 private:
  Status sync(const std::string& key);
  Status manageReplicas(const nlohmann::json& rs, const std::vector<kubeapi::ObjectPtr>& pods);
  Status createPods(const nlohmann::json& rs, int count);
  Status deletePods(const nlohmann::json& rs, const std::vector<kubeapi::ObjectPtr>& pods,
                    size_t count);
  Status updateStatus(const nlohmann::json& rs, const nlohmann::json& status);
  // Pods of the ReplicaSets that share this one's controller (a Deployment's other sets).
  std::vector<kubeapi::ObjectPtr> relatedPods(const nlohmann::json& rs) const;

  // The ReplicaSet a controller reference names, if it is one in the cache with that uid.
  kubeapi::ObjectPtr resolveController(const nlohmann::json& pod) const;
  void enqueueMatchingReplicaSets(const nlohmann::json& pod);
  void podAdded(const kubeapi::ObjectPtr& pod);
  void podUpdated(const kubeapi::ObjectPtr& oldPod, const kubeapi::ObjectPtr& newPod);
  void podDeleted(const kubeapi::ObjectPtr& pod);

  std::shared_ptr<kubeapi::RestClient> client_;
  kubeapi::SharedInformer& replicaSets_;
  kubeapi::SharedInformer& pods_;
  kubeapi::ResourceClient rsClient_;
  kubeapi::ResourceClient podClient_;
  kubeapi::EventRecorder recorder_;
  Expectations expectations_;
  int workers_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
