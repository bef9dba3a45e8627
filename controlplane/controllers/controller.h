#pragma once
// What every controller of berth-controller-manager is given and how it runs, as
// kube-controller-manager's ControllerContext and its controllers' Run(workers, stop):
// informers shared through one factory, the REST client, the manager's options.
#include <memory>
#include <string>

#include "controlplane/controllers/controller_options.h"

namespace berth::kubeapi {
class InformerFactory;
class RestClient;
}  // namespace berth::kubeapi

namespace berth::controlplane::controllers {

struct ControllerContext {
  std::shared_ptr<kubeapi::RestClient> client;
  kubeapi::InformerFactory& informers;
  const ControllerOptions& options;
};

class Controller {
 public:
  virtual ~Controller() = default;
  // Called after the informers it asked for in its constructor have synced.
  virtual void start() = 0;
  // Stops its workers and waits for them; idempotent. Also called by the destructor of the
  // implementations that own threads.
  virtual void stop() = 0;
};

}  // namespace berth::controlplane::controllers
