#include "controlplane/controllers/node_health.h"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

#include "kubeapi/json_fields.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

struct ConditionTaint {
  std::string_view condition;
  std::string_view status;
  std::string_view key;
};

// TaintNodesByCondition (nodelifecycle's nodeConditionToTaintKeyStatusMap).
constexpr std::array<ConditionTaint, 5> kNoScheduleTaints = {{
    {"Ready", "False", kTaintNotReady},
    {"Ready", "Unknown", kTaintUnreachable},
    {"MemoryPressure", "True", "node.kubernetes.io/memory-pressure"},
    {"DiskPressure", "True", "node.kubernetes.io/disk-pressure"},
    {"PIDPressure", "True", "node.kubernetes.io/pid-pressure"},
}};
constexpr std::string_view kTaintNetworkUnavailable = "node.kubernetes.io/network-unavailable";
constexpr std::string_view kTaintUnschedulable = "node.kubernetes.io/unschedulable";

bool managedTaint(const json& taint) {
  std::string key = jsonString(taint, "key");
  std::string effect = jsonString(taint, "effect");
  if (effect == "NoExecute") return key == kTaintNotReady || key == kTaintUnreachable;
  if (effect != "NoSchedule") return false;
  return key == kTaintNetworkUnavailable || key == kTaintUnschedulable ||
         std::ranges::any_of(kNoScheduleTaints, [&](const auto& c) { return c.key == key; });
}

}  // namespace

std::string nodeConditionStatus(const json& node, std::string_view type) {
  for (const json& c : jsonArray(jsonField(node, "status"), "conditions"))
    if (jsonString(c, "type") == type) return jsonString(c, "status");
  return "";
}

bool markNodeStatusUnknown(json& node, kubeapi::Time now) {
  json& status = node["status"];
  if (!status["conditions"].is_array()) status["conditions"] = json::array();
  json& conditions = status["conditions"];
  std::string nowText = kubeapi::formatTime(now);
  bool changed = false;
  for (std::string_view type : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
    auto it = std::ranges::find_if(conditions,
                                   [&](const json& c) { return jsonString(c, "type") == type; });
    if (it == conditions.end()) {
      conditions.push_back(
          {{"type", type},
           {"status", "Unknown"},
           {"reason", "NodeStatusNeverUpdated"},
           {"message", "Kubelet never posted node status."},
           {"lastHeartbeatTime", jsonString(jsonField(node, "metadata"), "creationTimestamp")},
           {"lastTransitionTime", nowText}});
      changed = true;
    } else if (jsonString(*it, "status") != "Unknown") {
      (*it)["status"] = "Unknown";
      (*it)["reason"] = "NodeStatusUnknown";
      (*it)["message"] = "Kubelet stopped posting node status.";
      (*it)["lastTransitionTime"] = nowText;
      changed = true;
    }
  }
  return changed;
}

json desiredNodeTaints(const json& node, kubeapi::Time now) {
  std::vector<std::pair<std::string_view, std::string_view>> wanted;  // key, effect
  std::string ready = nodeConditionStatus(node, "Ready");
  if (ready == "False") wanted.emplace_back(kTaintNotReady, "NoExecute");
  if (ready == "Unknown") wanted.emplace_back(kTaintUnreachable, "NoExecute");
  for (const auto& c : kNoScheduleTaints)
    if (nodeConditionStatus(node, c.condition) == c.status)
      wanted.emplace_back(c.key, "NoSchedule");
  if (nodeConditionStatus(node, "NetworkUnavailable") == "True")
    wanted.emplace_back(kTaintNetworkUnavailable, "NoSchedule");
  if (kubeapi::jsonBool(jsonField(node, "spec"), "unschedulable"))
    wanted.emplace_back(kTaintUnschedulable, "NoSchedule");

  // Kept in place so an unchanged set compares equal to spec.taints.
  auto isWanted = [&](const json& t) {
    return std::ranges::any_of(wanted, [&](const auto& w) {
      return jsonString(t, "key") == w.first && jsonString(t, "effect") == w.second;
    });
  };
  const json& current = jsonArray(jsonField(node, "spec"), "taints");
  json taints = json::array();
  for (const json& t : current)
    if (!managedTaint(t) || isWanted(t)) taints.push_back(t);
  for (const auto& [key, effect] : wanted) {
    bool present = std::ranges::any_of(current, [&](const json& t) {
      return jsonString(t, "key") == key && jsonString(t, "effect") == effect;
    });
    if (present) continue;
    json taint = {{"key", key}, {"effect", effect}};
    if (effect == "NoExecute") taint["timeAdded"] = kubeapi::formatTime(now);
    taints.push_back(std::move(taint));
  }
  return taints;
}

bool tolerates(const json& toleration, const json& taint) {
  std::string effect = jsonString(toleration, "effect");
  if (!effect.empty() && effect != jsonString(taint, "effect")) return false;
  std::string key = jsonString(toleration, "key");
  std::string op = jsonString(toleration, "operator", "Equal");
  if (key.empty()) return op == "Exists";  // an empty key with Exists tolerates everything
  if (key != jsonString(taint, "key")) return false;
  if (op == "Exists") return true;
  return op == "Equal" && jsonString(toleration, "value") == jsonString(taint, "value");
}

}  // namespace berth::controlplane::controllers
