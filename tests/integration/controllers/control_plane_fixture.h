#pragma once
// berth-server as a process plus, in the test process, a kubeapi client with the admin
// kubeconfig and the controller manager / scheduler under test on it. No kubelet: a test that
// needs a pod Ready or a Node plays the kubelet's part through the API (writing pods/status or a
// Node), which is the contract the controllers read.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller_manager.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::kubeapi {
class RestClient;
}

namespace berth::testing {

class ControlPlaneFixture {
 public:
  // Starts berth-server; fails the calling test when it can't.
  [[nodiscard]] static Result<std::unique_ptr<ControlPlaneFixture>> start(
      ServerFixture::Options options = {});
  ~ControlPlaneFixture();

  ServerFixture& server() { return *server_; }
  const std::shared_ptr<kubeapi::RestClient>& client() const { return client_; }

  // Runs the named controllers (kube-controller-manager's names) until the fixture ends.
  [[nodiscard]] Status startControllers(std::vector<std::string> names,
                                        controlplane::controllers::ControllerOptions options = {});

  // A Node object as a kubelet would register it: Ready, with the given allocatable
  // (cpu, memory, pods) and labels.
  [[nodiscard]] Status createReadyNode(const std::string& name, const std::string& cpu = "4",
                                       const std::string& memory = "8Gi",
                                       const nlohmann::json& labels = nlohmann::json::object());
  // A JSON merge patch of a Node (taints, unschedulable, labels), as kubectl taint/cordon would.
  [[nodiscard]] Status patchNode(const std::string& name, const nlohmann::json& mergePatch);
  // The kubelet's heartbeats, on a client of their own: renews the node's Lease in
  // kube-node-lease (creating it).
  [[nodiscard]] Status renewNodeLease(const std::string& name);
  // The kubelet back: posts the node's Ready condition True with a fresh lastHeartbeatTime.
  [[nodiscard]] Status postNodeReady(const std::string& name);
  // Marks a pod Running and Ready (its status through pods/status), as its kubelet would.
  [[nodiscard]] Status markPodReady(const std::string& ns, const std::string& name,
                                    const std::string& podIp = "10.42.0.10");

  // Polls `condition` until true or `timeout` (tests wait on conditions, never sleep a fixed time).
  static bool eventually(const std::function<bool()>& condition,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  std::unique_ptr<ServerFixture> server_;
  std::shared_ptr<kubeapi::RestClient> client_;
  std::shared_ptr<kubeapi::RestClient> kubeletClient_;  // the kubelets' heartbeats: own budget
  std::unique_ptr<controlplane::controllers::ControllerManager> manager_;
};

}  // namespace berth::testing
