#include "controlplane/controllers/node_health.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace node_health_test {

using nlohmann::json;

json nodeWith(json conditions, json taints = json::array(), bool unschedulable = false) {
  json node = {{"metadata", {{"name", "n1"}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
               {"spec", {{"taints", taints}}},
               {"status", {{"conditions", conditions}}}};
  if (unschedulable) node["spec"]["unschedulable"] = true;
  return node;
}

json cond(const char* type, const char* status) {
  return {{"type", type}, {"status", status}, {"lastHeartbeatTime", "2026-01-01T00:00:00Z"}};
}

std::vector<std::string> keys(const json& taints) {
  std::vector<std::string> out;
  for (const auto& t : taints)
    out.push_back(t["key"].get<std::string>() + ":" + t["effect"].get<std::string>());
  return out;
}

TEST(NodeHealthTest, StaleNodeConditionsBecomeUnknown) {
  json node = nodeWith({cond("Ready", "True"), cond("DiskPressure", "False")});
  ASSERT_TRUE(markNodeStatusUnknown(node, kubeapi::now()));
  EXPECT_EQ(nodeConditionStatus(node, "Ready"), "Unknown");
  EXPECT_EQ(nodeConditionStatus(node, "DiskPressure"), "Unknown");
  EXPECT_EQ(nodeConditionStatus(node, "MemoryPressure"), "Unknown");
  for (const auto& c : node["status"]["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_EQ(c["reason"], "NodeStatusUnknown");
      EXPECT_EQ(c["message"], "Kubelet stopped posting node status.");
    }
    if (c["type"] == "MemoryPressure") {
      EXPECT_EQ(c["reason"], "NodeStatusNeverUpdated");
    }
  }
  EXPECT_FALSE(markNodeStatusUnknown(node, kubeapi::now())) << "already Unknown";
}

TEST(NodeHealthTest, TaintsFollowConditions) {
  struct Case {
    json node;
    std::vector<std::string> want;
  };
  json foreign = {{"key", "example.com/x"}, {"effect", "NoSchedule"}};
  std::vector<Case> cases = {
      {nodeWith(json::array({cond("Ready", "True")})), {}},
      {nodeWith(json::array({cond("Ready", "Unknown")})),
       {"node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"}},
      {nodeWith({cond("Ready", "False"), cond("DiskPressure", "True")}),
       {"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/not-ready:NoSchedule",
        "node.kubernetes.io/disk-pressure:NoSchedule"}},
      // Ready again: the controller's taints go, a foreign one stays.
      {nodeWith(
           json::array({cond("Ready", "True")}),
           json::array(
               {foreign, {{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}}})),
       {"example.com/x:NoSchedule"}},
      {nodeWith({cond("Ready", "True"), cond("NetworkUnavailable", "True")}, json::array(), true),
       {"node.kubernetes.io/network-unavailable:NoSchedule",
        "node.kubernetes.io/unschedulable:NoSchedule"}},
  };
  for (const auto& c : cases)
    EXPECT_EQ(keys(desiredNodeTaints(c.node, kubeapi::now())), c.want) << c.node.dump();
}

TEST(NodeHealthTest, ExistingTaintKeepsItsTimeAdded) {
  json old = {{"key", "node.kubernetes.io/unreachable"},
              {"effect", "NoExecute"},
              {"timeAdded", "2026-01-01T00:00:00Z"}};
  json node = nodeWith(json::array({cond("Ready", "Unknown")}), json::array({old}));
  json taints = desiredNodeTaints(node, kubeapi::now());
  ASSERT_EQ(taints.size(), 2u);
  EXPECT_EQ(taints[0], old);
  EXPECT_FALSE(taints[1].contains("timeAdded")) << "NoSchedule taints carry no time";
}

TEST(NodeHealthTest, Tolerations) {
  json taint = {{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}};
  EXPECT_TRUE(tolerates({{"operator", "Exists"}}, taint));
  EXPECT_TRUE(
      tolerates({{"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}}, taint));
  EXPECT_TRUE(
      tolerates({{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}}, taint));
  EXPECT_FALSE(
      tolerates({{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoSchedule"}}, taint));
  EXPECT_FALSE(tolerates({{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}, taint));
  EXPECT_FALSE(tolerates({{"key", "node.kubernetes.io/unreachable"}, {"value", "x"}}, taint));
}

}  // namespace node_health_test
}  // namespace berth::controlplane::controllers
