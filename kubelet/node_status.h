#pragma once
// The Node object the kubelet registers and keeps current (kubelet_node_status.go and
// nodestatus/setters.go upstream): labels, taints, capacity and allocatable, addresses,
// nodeInfo, daemon endpoints and the four conditions; and the node's Lease. Pure functions of
// the node's configuration, the machine and the runtime's health, tested with tables.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"
#include "kubelet/machine_info.h"

namespace berth::kubelet {

struct NodeConfig {
  std::string nodeName;
  std::string hostname;
  std::vector<std::string> nodeIps;  // InternalIP per family, primary first
  std::map<std::string, std::string> labels;
  nlohmann::json taints = nlohmann::json::array();  // registerWithTaints
  int maxPods = 110;
  int kubeletPort = 10250;
  // Taken off capacity for allocatable: systemReserved + kubeReserved, and the hard eviction
  // threshold of memory.available (resource name → quantity).
  std::map<std::string, std::string> reserved;
  std::string providerId;
};

struct RuntimeHealth {
  bool runtimeReady = false;
  bool networkReady = false;
  std::string message;         // why not, when not
  std::string runtimeVersion;  // "berth://0.1.0"
};

// The Node as registered (metadata, spec and status).
nlohmann::json makeNode(const NodeConfig& config, const MachineInfo& machine,
                        const RuntimeHealth& health, kubeapi::Time now);

// The status to post, transition times carried over from `oldStatus` while a condition holds.
nlohmann::json nodeStatus(const NodeConfig& config, const MachineInfo& machine,
                          const RuntimeHealth& health, const nlohmann::json& oldStatus,
                          kubeapi::Time now);

// Whether two statuses differ in more than the conditions' heartbeat times (what makes the
// kubelet post before nodeStatusReportFrequency is up).
bool nodeStatusChanged(const nlohmann::json& a, const nlohmann::json& b);

// The node's Lease in kube-node-lease, owned by the Node.
nlohmann::json makeLease(const std::string& nodeName, const std::string& nodeUid,
                         int durationSeconds, kubeapi::Time now);

}  // namespace berth::kubelet
