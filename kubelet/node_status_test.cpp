#include "kubelet/node_status.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace node_status_test {

using Json = nlohmann::json;

NodeConfig config() {
  NodeConfig c;
  c.nodeName = "n1";
  c.hostname = "n1.local";
  c.nodeIps = {"10.1.0.5", "fd00::5", "10.1.0.6"};
  c.labels = {{"role", "worker"}};
  c.taints = Json::array({{{"key", "k"}, {"effect", "NoSchedule"}}});
  c.reserved = {{"memory", "100Mi"}, {"cpu", "500m"}};
  return c;
}

MachineInfo machine() {
  MachineInfo m;
  m.cpus = 2;
  m.memoryBytes = 4LL << 30;
  m.ephemeralStorageBytes = 10LL << 30;
  m.hugepages = {{"hugepages-2Mi", 0}};
  m.kernelVersion = "6.1.0";
  m.osImage = "Debian GNU/Linux 12 (bookworm)";
  return m;
}

const Json* findCondition(const Json& status, const std::string& type) {
  for (const Json& c : status["conditions"])
    if (c["type"] == type) return &c;
  return nullptr;
}

TEST(NodeStatus, RegistersWithLabelsTaintsCapacityAndAllocatable) {
  RuntimeHealth h{.runtimeReady = true, .networkReady = true, .runtimeVersion = "berth://0.1.0"};
  Json node = makeNode(config(), machine(), h, kubeapi::now());
  EXPECT_EQ(node["metadata"]["name"], "n1");
  EXPECT_EQ(node["metadata"]["labels"]["kubernetes.io/hostname"], "n1.local");
  EXPECT_EQ(node["metadata"]["labels"]["kubernetes.io/os"], "linux");
  EXPECT_EQ(node["metadata"]["labels"]["role"], "worker");
  EXPECT_EQ(node["spec"]["taints"][0]["key"], "k");
  const Json& s = node["status"];
  EXPECT_EQ(s["capacity"]["cpu"], "2");
  EXPECT_EQ(s["capacity"]["memory"], "4Gi");
  EXPECT_EQ(s["capacity"]["pods"], "110");
  EXPECT_EQ(s["allocatable"]["cpu"], "1500m");
  EXPECT_EQ(s["allocatable"]["memory"], "3996Mi");
  EXPECT_EQ(s["nodeInfo"]["containerRuntimeVersion"], "berth://0.1.0");
  EXPECT_EQ(s["nodeInfo"]["kubeletVersion"], "v1.32.0");
  // One InternalIP per family, then the hostname.
  ASSERT_EQ(s["addresses"].size(), 3u);
  EXPECT_EQ(s["addresses"][0]["address"], "10.1.0.5");
  EXPECT_EQ(s["addresses"][1]["address"], "fd00::5");
  EXPECT_EQ(s["addresses"][2]["type"], "Hostname");
  EXPECT_EQ(s["daemonEndpoints"]["kubeletEndpoint"]["Port"], 10250);
  EXPECT_EQ((*findCondition(s, "Ready"))["reason"], "KubeletReady");
  EXPECT_EQ((*findCondition(s, "MemoryPressure"))["status"], "False");
}

TEST(NodeStatus, RuntimeDownIsNotReadyAndTransitionTimesHold) {
  auto t0 = kubeapi::now() - std::chrono::hours(1);
  RuntimeHealth up{.runtimeReady = true, .networkReady = true};
  Json before = nodeStatus(config(), machine(), up, Json(), t0);
  // Same health later: the transition time stays, only the heartbeat moves.
  Json same = nodeStatus(config(), machine(), up, before, kubeapi::now());
  EXPECT_EQ((*findCondition(same, "Ready"))["lastTransitionTime"],
            (*findCondition(before, "Ready"))["lastTransitionTime"]);
  EXPECT_NE((*findCondition(same, "Ready"))["lastHeartbeatTime"],
            (*findCondition(before, "Ready"))["lastHeartbeatTime"]);
  EXPECT_FALSE(nodeStatusChanged(before, same));

  RuntimeHealth down{.message = "connection refused"};
  Json after = nodeStatus(config(), machine(), down, before, kubeapi::now());
  const Json& ready = *findCondition(after, "Ready");
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "KubeletNotReady");
  EXPECT_EQ(ready["message"], "container runtime is down: connection refused");
  EXPECT_NE(ready["lastTransitionTime"], (*findCondition(before, "Ready"))["lastTransitionTime"]);
  EXPECT_TRUE(nodeStatusChanged(before, after));
}

TEST(NodeStatus, LeaseIsOwnedByTheNode) {
  Json lease = makeLease("n1", "uid-1", 40, kubeapi::now());
  EXPECT_EQ(lease["metadata"]["namespace"], "kube-node-lease");
  EXPECT_EQ(lease["spec"]["holderIdentity"], "n1");
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 40);
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["kind"], "Node");
  EXPECT_EQ(lease["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  // MicroTime: microseconds.
  EXPECT_NE(lease["spec"]["renewTime"].get<std::string>().find('.'), std::string::npos);
}

}  // namespace node_status_test
}  // namespace berth::kubelet
