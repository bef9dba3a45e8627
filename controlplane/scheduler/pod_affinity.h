#pragma once
// What InterPodAffinity and PodTopologySpread compute over the whole snapshot: affinity terms
// as upstream processes them (framework.AffinityTerm), spread constraints and their per-domain
// counts of matching pods.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/scheduler/node_info.h"
#include "kubeapi/label_selector.h"

namespace berth::controlplane::scheduler {

struct AffinityTerm {
  kubeapi::LabelSelector selector = kubeapi::LabelSelector::nothing();
  std::set<std::string> namespaces;  // empty with allNamespaces
  bool allNamespaces = false;
  std::string topologyKey;

  // The other pod is in one of the term's namespaces and its labels match.
  bool matches(const nlohmann::json& other) const;
};

// The required terms of spec.affinity.<kind> ("podAffinity", "podAntiAffinity"). A term with
// no namespaces and no namespaceSelector means the pod's own namespace; an empty
// namespaceSelector ({}) means all; another adds the snapshot's namespaces it matches.
std::vector<AffinityTerm> requiredAffinityTerms(const nlohmann::json& pod, std::string_view kind,
                                                const Snapshot& s);

struct WeightedAffinityTerm {
  AffinityTerm term;
  std::int64_t weight = 0;
};
std::vector<WeightedAffinityTerm> preferredAffinityTerms(const nlohmann::json& pod,
                                                         std::string_view kind, const Snapshot& s);

// InterPodAffinity's PreScore: topology key -> domain -> the weights of the preferred terms
// (the pod's and, symmetrically, the existing pods') that pods in that domain satisfy,
// negative for anti-affinity.
using TopologyScores = std::map<std::string, std::map<std::string, std::int64_t>>;
constexpr std::int64_t kHardPodAffinityWeight = 1;
TopologyScores affinityTopologyScores(const nlohmann::json& pod, const Snapshot& s);

bool satisfiesPodAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);
bool satisfiesPodAntiAffinity(const nlohmann::json& pod, const NodeInfo& node, const Snapshot& s);
bool satisfiesExistingPodsAntiAffinity(const nlohmann::json& pod, const NodeInfo& node,
                                       const Snapshot& s);

struct SpreadConstraint {
  std::int64_t maxSkew = 1;
  std::string topologyKey;
  kubeapi::LabelSelector selector = kubeapi::LabelSelector::nothing();
  std::optional<std::int64_t> minDomains;
  bool honorNodeAffinity = true;  // nodeAffinityPolicy, Honor by default
  bool honorTaints = false;       // nodeTaintsPolicy, Ignore by default
};

// spec.topologySpreadConstraints with the given whenUnsatisfiable; matchLabelKeys become
// requirements on the pod's own values.
std::vector<SpreadConstraint> topologySpreadConstraints(const nlohmann::json& pod,
                                                        std::string_view whenUnsatisfiable);

// PodTopologySpread's system defaults for a pod that has no constraints of its own: hostname
// (maxSkew 3) and zone (maxSkew 5), ScheduleAnyway, over the pods its Services and its
// ReplicaSet or StatefulSet select (helper.DefaultSelector); none when they select nothing.
// Deviation: ReplicationControllers are not looked at (berth-server does not serve them).
std::vector<SpreadConstraint> defaultSpreadConstraints(const nlohmann::json& pod,
                                                       const Snapshot& s);

struct SpreadCounts {
  std::map<std::string, std::int64_t> byDomain;  // every eligible domain, 0 included
  std::optional<std::int64_t> minDomains;
  std::int64_t count(const std::string& domain) const;
  // The global minimum; 0 while fewer domains than minDomains exist.
  std::int64_t minMatch() const;
};

// Matching pods (same namespace, selector, not terminating) per value of the constraint's
// topology key, over the nodes the pod could go to that carry every constraint's key (only
// this constraint's key for system defaults, `requireAllKeys` false).
SpreadCounts countSpread(const nlohmann::json& pod, const SpreadConstraint& c,
                         const std::vector<SpreadConstraint>& all, const Snapshot& s,
                         bool requireAllKeys = true);

}  // namespace berth::controlplane::scheduler
