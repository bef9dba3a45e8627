#include "controlplane/auth/role_aggregation.h"

#include <algorithm>

#include "controlplane/auth/json_util.h"

namespace berth::controlplane::auth {

namespace {

const nlohmann::json& labelsOf(const nlohmann::json& object) {
  static const nlohmann::json kNone = nlohmann::json::object();
  const auto* labels = json::path(object, {"metadata", "labels"});
  return labels != nullptr && labels->is_object() ? *labels : kNone;
}

}  // namespace

bool labelSelectorMatches(const nlohmann::json& selector, const nlohmann::json& labels) {
  if (const auto* matchLabels = json::member(selector, "matchLabels");
      matchLabels != nullptr && matchLabels->is_object()) {
    for (const auto& [key, value] : matchLabels->items()) {
      const auto* have = json::member(labels, key);
      if (have == nullptr || *have != value) return false;
    }
  }
  for (const auto& expression : json::array(selector, "matchExpressions")) {
    const std::string key = json::string(expression, "key");
    const std::string op = json::string(expression, "operator");
    const auto values = json::strings(expression, "values");
    const auto* have = json::member(labels, key);
    const bool in =
        have != nullptr && have->is_string() &&
        std::find(values.begin(), values.end(), have->get<std::string>()) != values.end();
    if (op == "In" && !in) return false;
    if (op == "NotIn" && in) return false;
    if (op == "Exists" && have == nullptr) return false;
    if (op == "DoesNotExist" && have != nullptr) return false;
    if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist") return false;
  }
  return true;
}

std::vector<nlohmann::json> aggregatedRules(const nlohmann::json& role,
                                            const std::vector<nlohmann::json>& clusterRoles) {
  const auto* rule = json::member(role, "aggregationRule");
  if (rule == nullptr || !rule->is_object()) {
    const auto& own = json::array(role, "rules");
    return {own.begin(), own.end()};
  }
  const std::string self = json::meta(role, "name");
  std::vector<const nlohmann::json*> selected;
  for (const auto& selector : json::array(*rule, "clusterRoleSelectors")) {
    for (const auto& candidate : clusterRoles) {
      if (labelSelectorMatches(selector, labelsOf(candidate))) selected.push_back(&candidate);
    }
  }
  std::stable_sort(selected.begin(), selected.end(), [](const auto* a, const auto* b) {
    return json::meta(*a, "name") < json::meta(*b, "name");
  });
  std::vector<nlohmann::json> rules;
  for (const auto* candidate : selected) {
    if (json::meta(*candidate, "name") == self) continue;
    for (const auto& candidateRule : json::array(*candidate, "rules")) {
      if (std::find(rules.begin(), rules.end(), candidateRule) == rules.end()) {
        rules.push_back(candidateRule);
      }
    }
  }
  return rules;
}

void aggregateClusterRoles(std::vector<nlohmann::json>& clusterRoles) {
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& role : clusterRoles) {
      if (json::member(role, "aggregationRule") == nullptr) continue;
      nlohmann::json rules = aggregatedRules(role, clusterRoles);
      if (role["rules"] != rules) {
        role["rules"] = std::move(rules);
        changed = true;
      }
    }
  }
}

}  // namespace berth::controlplane::auth
