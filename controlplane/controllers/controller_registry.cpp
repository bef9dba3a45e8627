// The list of controllers, kube-controller-manager's names and start order. A new controller is
// one entry here.
#include "controlplane/controllers/controller_manager.h"

namespace berth::controlplane::controllers {

const std::vector<ControllerDescriptor>& knownControllers() {
  static const std::vector<ControllerDescriptor> all = {};
  return all;
}

}  // namespace berth::controlplane::controllers
