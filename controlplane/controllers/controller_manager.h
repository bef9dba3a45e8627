#pragma once
// berth-controller-manager: the controllers `--controllers` enables (kube-controller-manager's
// names: "deployment", "replicaset", "endpointslice", ...), built on one informer factory, started
// once its caches have synced, stopped in reverse order. Runs as a thread set of `berth up` or on
// its own (berth-controller-manager --kubeconfig).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "controlplane/controllers/controller.h"

namespace berth::controlplane::controllers {

struct ControllerDescriptor {
  std::string name;
  bool enabledByDefault = true;
  std::function<std::unique_ptr<Controller>(ControllerContext&)> create;
};

// Every controller berth has, in start order (controller_registry.cpp).
const std::vector<ControllerDescriptor>& knownControllers();

// Whether `name` is on, by kube-controller-manager's rules: an explicit "-name" wins, then
// "name", then "*" turns on the default set.
bool controllerEnabled(const std::vector<std::string>& flags, const ControllerDescriptor& d);
// An unknown name in --controllers (without its "-") is an error naming it.
Status validateControllerFlags(const std::vector<std::string>& flags);

class ControllerManager {
 public:
  ControllerManager(std::shared_ptr<kubeapi::RestClient> client, ControllerOptions options);
  // On informers shared with others (the scheduler in `berth up`); the factory outlives this.
  ControllerManager(kubeapi::InformerFactory& informers, ControllerOptions options);
  ~ControllerManager();  // stop()

  // Builds the enabled controllers, starts the informers, waits for them to sync (up to
  // `syncTimeout`) and starts every controller.
  [[nodiscard]] Status start(std::chrono::milliseconds syncTimeout = std::chrono::seconds(60));
  void stop();

  const std::vector<std::string>& running() const { return names_; }

 private:
  ControllerOptions options_;
  std::unique_ptr<kubeapi::InformerFactory> ownInformers_;
  kubeapi::InformerFactory& informers_;
  ControllerContext context_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Controller>> controllers_;
};

}  // namespace berth::controlplane::controllers
