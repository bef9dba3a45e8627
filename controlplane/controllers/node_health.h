#pragma once
// The pure parts of the node lifecycle controller (pkg/controller/nodelifecycle): what a Node's
// conditions become when its kubelet stopped posting status, and which taints its conditions call
// for (TaintNodesByCondition's NoSchedule taints, the NoExecute not-ready/unreachable taints).
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"

namespace berth::controlplane::controllers {

inline constexpr std::string_view kTaintNotReady = "node.kubernetes.io/not-ready";
inline constexpr std::string_view kTaintUnreachable = "node.kubernetes.io/unreachable";

// The status of the node's condition `type` ("True", "False", "Unknown"), "" when absent.
std::string nodeConditionStatus(const nlohmann::json& node, std::string_view type);

// tryUpdateNodeHealth's marking: Ready, MemoryPressure, DiskPressure and PIDPressure become
// Unknown ("NodeStatusUnknown", "Kubelet stopped posting node status."), a missing one is added
// as Unknown ("NodeStatusNeverUpdated"). Returns whether anything changed.
bool markNodeStatusUnknown(nlohmann::json& node, kubeapi::Time now);

// The node's spec.taints with the controller's taints made to match its conditions and
// spec.unschedulable; other taints are kept, and a taint already there keeps its timeAdded.
// NoExecute taints it adds carry timeAdded = now.
nlohmann::json desiredNodeTaints(const nlohmann::json& node, kubeapi::Time now);

// Whether `toleration` tolerates `taint` (v1 Toleration.ToleratesTaint).
bool tolerates(const nlohmann::json& toleration, const nlohmann::json& taint);

}  // namespace berth::controlplane::controllers
