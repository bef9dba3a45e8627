#pragma once
// kube-controller-manager's "nodelifecycle" (pkg/controller/nodelifecycle): every
// --node-monitor-period, and on every Node or Lease change, a node whose kubelet has not renewed
// its Lease (kube-node-lease) nor its Ready heartbeat for --node-monitor-grace-period
// (--node-startup-grace-period before its first status) gets its conditions set Unknown and its
// pods marked not Ready; its taints follow its conditions (not-ready / unreachable NoExecute, and
// TaintNodesByCondition's NoSchedule taints). The eviction the NoExecute taints call for is the
// "taint-eviction-controller".
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/queue_worker.h"

namespace berth::kubeapi {
class EventRecorder;
class SharedInformer;
}  // namespace berth::kubeapi

namespace berth::controlplane::controllers {

class NodeLifecycleController final : public Controller {
 public:
  explicit NodeLifecycleController(ControllerContext& context);
  ~NodeLifecycleController() override;

  void start() override;
  void stop() override;

 private:
  // What upstream's nodeHealthData keeps: the heartbeats last seen and when (on our clock, so
  // the kubelet's clock does not matter).
  struct Health {
    std::string heartbeat;   // Ready's lastHeartbeatTime
    std::string leaseRenew;  // the Lease's spec.renewTime
    std::chrono::steady_clock::time_point probe;
    std::string ready;  // the Ready status last seen, for the NodeReady/NodeNotReady events
  };

  Status sync(const std::string& name);
  // Whether the node's heartbeats are older than its grace period (and records what it saw).
  bool heartbeatExpired(const nlohmann::json& node);
  void recordReadyChange(const nlohmann::json& node);
  Status markPodsNotReady(const std::string& nodeName);
  Status updateTaints(const nlohmann::json& node);
  void monitorLoop();

  ControllerContext& context_;
  kubeapi::SharedInformer* nodes_;
  kubeapi::SharedInformer* leases_;
  kubeapi::SharedInformer* pods_;
  std::unique_ptr<kubeapi::EventRecorder> recorder_;
  std::mutex healthMu_;
  std::map<std::string, Health> health_;
  QueueWorker worker_;

  std::mutex monitorMu_;
  std::condition_variable monitorCv_;
  bool stopping_ = false;
  std::thread monitor_;
};

}  // namespace berth::controlplane::controllers
