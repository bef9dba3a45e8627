#pragma once
// kube-controller-manager's "endpoint" controller (pkg/controller/endpoint): the v1 Endpoints
// of every Service with a selector, named as the Service; ready pods under addresses, the
// others under notReadyAddresses (all under addresses with publishNotReadyAddresses), one subset
// per set of resolved ports; written only when the subsets or labels change; deleted with the
// Service. Services without a selector are left to whoever writes their Endpoints.
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/endpoint_pods.h"
#include "controlplane/controllers/queue_worker.h"
#include "controlplane/controllers/write_tracker.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

// The subsets of a Service's Endpoints from its pods (upstream's syncService loop and
// RepackSubsets), sorted so that equal inputs give equal JSON.
nlohmann::json endpointSubsets(const nlohmann::json& service,
                               const std::vector<kubeapi::ObjectPtr>& pods);

// truncateEndpoints: at most 1,000 addresses, ready ones kept first, each subset keeping its
// share; whether anything was cut (then the Endpoints carry endpoints.kubernetes.io/over-capacity).
bool truncateEndpoints(nlohmann::json& subsets);

class EndpointsController final : public Controller {
 public:
  explicit EndpointsController(ControllerContext& context);
  ~EndpointsController() override { stop(); }

  void start() override;
  void stop() override { worker_.stop(); }

 private:
  Status sync(const std::string& key);
  void onPod(const kubeapi::ObjectPtr& oldPod, const kubeapi::ObjectPtr& newPod);

  ControllerContext& context_;
  kubeapi::SharedInformer& services_;
  kubeapi::SharedInformer& pods_;
  kubeapi::SharedInformer& endpoints_;
  kubeapi::ResourceClient client_;
  TriggerTimeTracker triggerTimes_;
  WriteTracker written_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
