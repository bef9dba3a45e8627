#pragma once
// ClusterRole aggregation, as kube-controller-manager's clusterrole-aggregation controller does
// it: a ClusterRole with an aggregationRule gets the rules of every other ClusterRole whose labels
// match one of its clusterRoleSelectors, taken in name order, each distinct rule once.
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::controlplane::auth {

// The rules `role` should have given `clusterRoles` (all of them); `role`'s own rules when it has
// no aggregationRule.
std::vector<nlohmann::json> aggregatedRules(const nlohmann::json& role,
                                            const std::vector<nlohmann::json>& clusterRoles);

// Applies aggregation to a set of ClusterRoles until nothing changes (admin gathers edit, which
// gathers view): what the controller converges to.
void aggregateClusterRoles(std::vector<nlohmann::json>& clusterRoles);

// metav1.LabelSelector matching (matchLabels and matchExpressions with In, NotIn, Exists,
// DoesNotExist); an empty selector matches everything.
bool labelSelectorMatches(const nlohmann::json& selector, const nlohmann::json& labels);

}  // namespace berth::controlplane::auth
