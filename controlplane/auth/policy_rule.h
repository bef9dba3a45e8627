#pragma once
// RBAC PolicyRules (rbac.authorization.k8s.io/v1, as JSON objects: verbs, apiGroups, resources,
// resourceNames, nonResourceURLs): whether a rule allows a request, and whether one set of rules
// covers another (the escalation check), with the apiserver's semantics:
// - "*" matches any verb, group or resource; resources name subresources as "pods/log", and
//   "*/log" matches the log subresource of anything;
// - resourceNames, when present, match requests naming one of them (never lists or creates);
// - a nonResourceURL ending in "*" matches every path with that prefix.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/auth/user.h"

namespace berth::controlplane::auth::rbac {

bool verbMatches(const nlohmann::json& rule, std::string_view verb);
bool apiGroupMatches(const nlohmann::json& rule, std::string_view group);
// `combined`: "pods" or "pods/log"; `subresource`: "" or "log".
bool resourceMatches(const nlohmann::json& rule, std::string_view combined,
                     std::string_view subresource);
bool resourceNameMatches(const nlohmann::json& rule, std::string_view name);
bool nonResourceUrlMatches(const nlohmann::json& rule, std::string_view path);
bool ruleAllows(const Attributes& attributes, const nlohmann::json& rule);
// Any rule of a JSON array (a role's "rules") or vector.
bool rulesAllow(const Attributes& attributes, const nlohmann::json& rules);

// One rule per (group, resource, verb[, resourceName]) and per (URL, verb) (BreakdownRule).
std::vector<nlohmann::json> breakdownRule(const nlohmann::json& rule);
bool ruleCovers(const nlohmann::json& owner, const nlohmann::json& subrule);
// Whether `owner` rules cover every permission of `servant`; the uncovered pieces otherwise.
std::pair<bool, std::vector<nlohmann::json>> covers(const std::vector<nlohmann::json>& owner,
                                                    const std::vector<nlohmann::json>& servant);
// Merges rules with one group, one resource and at most one name that differ only in verbs.
std::vector<nlohmann::json> compactRules(const std::vector<nlohmann::json>& rules);
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}, as escalation errors
// print a rule.
std::string compactString(const nlohmann::json& rule);

}  // namespace berth::controlplane::auth::rbac
