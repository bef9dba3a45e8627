#pragma once
// kube-controller-manager's "endpointslice" controller: the discovery.k8s.io/v1 EndpointSlices
// of every Service with a selector (labelled kubernetes.io/service-name and managed-by
// endpointslice-controller.k8s.io, owned by the Service), one set per IP family, written only
// when they change. The slices are planned by planEndpointSlices; this class feeds it from the
// informers and applies the plan.
#include <string>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/endpoint_pods.h"
#include "controlplane/controllers/endpoint_slice_planner.h"
#include "controlplane/controllers/queue_worker.h"
#include "controlplane/controllers/write_tracker.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

class EndpointSliceController final : public Controller {
 public:
  explicit EndpointSliceController(ControllerContext& context);
  ~EndpointSliceController() override { stop(); }

  void start() override;
  void stop() override { worker_.stop(); }

 private:
  Status sync(const std::string& key);
  [[nodiscard]] Status apply(const std::string& key, SlicePlan& plan,
                             const std::optional<kubeapi::Time>& triggerTime);
  void onPod(const kubeapi::ObjectPtr& oldPod, const kubeapi::ObjectPtr& newPod);

  ControllerContext& context_;
  kubeapi::SharedInformer& services_;
  kubeapi::SharedInformer& pods_;
  kubeapi::SharedInformer& slices_;
  kubeapi::SharedInformer& nodes_;
  kubeapi::ResourceClient sliceClient_;
  TriggerTimeTracker triggerTimes_;
  WriteTracker written_;
  QueueWorker worker_;
};

}  // namespace berth::controlplane::controllers
