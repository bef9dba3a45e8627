#pragma once
// kube-scheduler's default filter plugins, in its order, each a pure function of (pod, node,
// snapshot) answering with upstream's status code and reason strings, which FitError counts
// into "0/3 nodes are available: ..." (pkg/scheduler/framework/plugins/*).
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/scheduler/node_info.h"

namespace berth::controlplane::scheduler {

enum class FilterCode {
  kSuccess,
  kUnschedulable,                 // preemption might help
  kUnschedulableAndUnresolvable,  // preemption can't help
};

struct FilterStatus {
  FilterCode code = FilterCode::kSuccess;
  std::vector<std::string> reasons;

  bool ok() const { return code == FilterCode::kSuccess; }
  static FilterStatus success() { return {}; }
  static FilterStatus unschedulable(std::string reason) {
    return {FilterCode::kUnschedulable, {std::move(reason)}};
  }
  static FilterStatus unresolvable(std::string reason) {
    return {FilterCode::kUnschedulableAndUnresolvable, {std::move(reason)}};
  }
};

using FilterFn = FilterStatus (*)(const nlohmann::json& pod, const NodeInfo& node,
                                  const Snapshot& snapshot);
struct FilterPlugin {
  std::string_view name;
  FilterFn filter;
};

FilterStatus nodeUnschedulable(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus nodeName(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus taintToleration(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus nodeAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus nodePorts(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus nodeResourcesFit(const nlohmann::json& pod, const NodeInfo& node, const Snapshot&);
FilterStatus volumeBinding(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);
FilterStatus podTopologySpread(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);
FilterStatus interPodAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);

// Upstream's default order; a node's status is that of the first plugin that rejects it.
const std::vector<FilterPlugin>& defaultFilters();
FilterStatus runFilters(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);

// PreFilter failures that hold for every node (VolumeBinding: a missing or unbound immediate
// claim). An empty reason list: go on to the filters.
FilterStatus preFilter(const nlohmann::json& pod, const Snapshot& s);

// The pod's unbound claims whose StorageClass binds WaitForFirstConsumer (provisioned for the
// node the pod goes to).
std::vector<std::string> delayedClaims(const nlohmann::json& pod, const Snapshot& s);

// v1helper.TolerationsTolerateTaint.
bool tolerates(const nlohmann::json& tolerations, const nlohmann::json& taint);
// A v1.NodeSelector's terms (ORed; matchExpressions on labels, matchFields on metadata.name).
bool nodeMatchesSelectorTerms(const nlohmann::json& node, const nlohmann::json& terms);
// One term (a NodeSelectorTerm or a preferred term's preference).
bool nodeMatchesTerm(const nlohmann::json& node, const nlohmann::json& term);
// spec.nodeSelector and required node affinity (NodeAffinity's filter).
bool podMatchesNodeSelectorAndAffinity(const nlohmann::json& pod, const nlohmann::json& node);

}  // namespace berth::controlplane::scheduler
