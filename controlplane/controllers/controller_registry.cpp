// The list of controllers, kube-controller-manager's names and start order. A new controller is
// one entry here.
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/deployment_controller.h"
#include "controlplane/controllers/replicaset_controller.h"

namespace berth::controlplane::controllers {

const std::vector<ControllerDescriptor>& knownControllers() {
  static const std::vector<ControllerDescriptor> all = {
      {.name = "deployment",
       .create = [](ControllerContext& c) { return std::make_unique<DeploymentController>(c); }},
      {.name = "replicaset",
       .create = [](ControllerContext& c) { return std::make_unique<ReplicaSetController>(c); }},
  };
  return all;
}

}  // namespace berth::controlplane::controllers
