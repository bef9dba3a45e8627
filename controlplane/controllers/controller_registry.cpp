// The list of controllers, kube-controller-manager's names and start order. A new controller is
// one entry here.
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/deployment_controller.h"
#include "controlplane/controllers/endpoint_slice_controller.h"
#include "controlplane/controllers/endpoints_controller.h"
#include "controlplane/controllers/garbage_collector.h"
#include "controlplane/controllers/node_ipam_controller.h"
#include "controlplane/controllers/node_lifecycle_controller.h"
#include "controlplane/controllers/pod_gc_controller.h"
#include "controlplane/controllers/replicaset_controller.h"
#include "controlplane/controllers/taint_eviction_controller.h"
#include "controlplane/controllers/ttl_after_finished_controller.h"

namespace berth::controlplane::controllers {

namespace {

template <class C>
std::unique_ptr<Controller> make(ControllerContext& context) {
  return std::make_unique<C>(context);
}

}  // namespace

const std::vector<ControllerDescriptor>& knownControllers() {
  static const std::vector<ControllerDescriptor> all = {
      {"endpoint", true, make<EndpointsController>},
      {"endpointslice", true, make<EndpointSliceController>},
      {"garbagecollector", true, make<GarbageCollector>},
      {"nodeipam", true, make<NodeIpamController>},
      {"nodelifecycle", true, make<NodeLifecycleController>},
      {"taint-eviction-controller", true, make<TaintEvictionController>},
      {"podgc", true, make<PodGcController>},
      {"ttl-after-finished", true, make<TtlAfterFinishedController>},
      {"replicaset", true, make<ReplicaSetController>},
      {"deployment", true, make<DeploymentController>},
  };
  return all;
}

}  // namespace berth::controlplane::controllers
