#pragma once
// Keeps the kubelet's Node alive in the API: registers it (or takes over an existing one), posts
// its status when it changes and at least every nodeStatusReportFrequency, and renews its
// Lease every quarter of the lease duration (the upstream kubelet's renewInterval). One thread;
// the runtime's health is asked over CRI with a deadline, so a hung runtime turns the node
// NotReady instead of hanging the heartbeat.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/rest_client.h"
#include "kubelet/cri_client.h"
#include "kubelet/machine_info.h"
#include "kubelet/node_status.h"

namespace berth::kubelet {

struct NodeAgentOptions {
  NodeConfig node;
  bool registerNode = true;
  int leaseDurationSeconds = 40;
  std::chrono::milliseconds statusUpdateFrequency{10'000};
  std::chrono::milliseconds statusReportFrequency{300'000};
};

class NodeAgent {
 public:
  NodeAgent(std::shared_ptr<kubeapi::RestClient> api, CriClient& cri, MachineInfo machine,
            NodeAgentOptions options);
  ~NodeAgent();

  // Registers the node (retrying until the API answers or stop()), then starts the loops.
  [[nodiscard]] Status start();
  void stop();

  // The Node as last read or written (podCIDRs, addresses), null before registration.
  nlohmann::json node() const;
  RuntimeHealth runtimeHealth();

 private:
  [[nodiscard]] Status registerNode();
  void loop();
  void updateStatus(bool force);
  void renewLease();
  void pushPodCidr(const nlohmann::json& node);

  std::shared_ptr<kubeapi::RestClient> api_;
  CriClient& cri_;
  MachineInfo machine_;
  NodeAgentOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  nlohmann::json node_;
  std::string podCidrPushed_;
  std::chrono::steady_clock::time_point lastPosted_{};
  std::thread thread_;
};

}  // namespace berth::kubelet
