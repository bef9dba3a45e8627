#include "kubelet/node_status.h"

#include "kubeapi/json_fields.h"
#include "kubeapi/quantity.h"
#include "kubeapi/version.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using kubeapi::Quantity;

Json capacity(const NodeConfig& config, const MachineInfo& m) {
  Json c = {{"cpu", std::to_string(m.cpus)},
            {"memory", Quantity::fromInt64(m.memoryBytes, Quantity::Format::kBinarySI).str()},
            {"pods", std::to_string(config.maxPods)},
            {"ephemeral-storage",
             Quantity::fromInt64(m.ephemeralStorageBytes, Quantity::Format::kBinarySI).str()}};
  for (const auto& [name, bytes] : m.hugepages)
    c[name] = Quantity::fromInt64(bytes).str();
  return c;
}

Json allocatable(const NodeConfig& config, const Json& capacity) {
  Json a = capacity;
  for (const auto& [name, reserved] : config.reserved) {
    if (!a.contains(name)) continue;
    auto have = Quantity::fromJson(a[name]);
    auto minus = Quantity::parse(reserved);
    if (!have || !minus) continue;
    have->sub(*minus);
    if (have->sign() < 0) *have = Quantity();
    a[name] = have->str();
  }
  // Hugepages are taken out of memory: the kernel holds them outside of what pods can use.
  if (auto mem = Quantity::fromJson(a["memory"])) {
    for (const auto& [name, value] : capacity.items()) {
      if (!name.starts_with("hugepages-")) continue;
      if (auto h = Quantity::fromJson(value)) mem->sub(*h);
    }
    a["memory"] = mem->str();
  }
  return a;
}

Json condition(const Json& oldStatus, const std::string& type, bool status,
               const std::string& reason, const std::string& message, kubeapi::Time now) {
  Json c = {{"type", type},
            {"status", status ? "True" : "False"},
            {"lastHeartbeatTime", kubeapi::formatTime(now)},
            {"lastTransitionTime", kubeapi::formatTime(now)},
            {"reason", reason},
            {"message", message}};
  for (const Json& old : jsonArray(oldStatus, "conditions")) {
    if (jsonString(old, "type") == type && old.value("status", "") == c["status"] &&
        old.contains("lastTransitionTime")) {
      c["lastTransitionTime"] = old["lastTransitionTime"];
    }
  }
  return c;
}

bool isIpv6(const std::string& ip) {
  return ip.find(':') != std::string::npos;
}

}  // namespace

Json nodeStatus(const NodeConfig& config, const MachineInfo& m, const RuntimeHealth& health,
                const Json& oldStatus, kubeapi::Time now) {
  Json status;
  status["capacity"] = capacity(config, m);
  status["allocatable"] = allocatable(config, status["capacity"]);
  std::string notReady;
  if (!health.runtimeReady) {
    notReady = "container runtime is down" + (health.message.empty() ? "" : ": " + health.message);
  } else if (!health.networkReady) {
    notReady = "container runtime network not ready: NetworkReady=false" +
               (health.message.empty() ? "" : " " + health.message);
  }
  status["conditions"] = Json::array({
      condition(oldStatus, "MemoryPressure", false, "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available", now),
      condition(oldStatus, "DiskPressure", false, "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure", now),
      condition(oldStatus, "PIDPressure", false, "KubeletHasSufficientPID",
                "kubelet has sufficient PID available", now),
      notReady.empty() ? condition(oldStatus, "Ready", true, "KubeletReady",
                                   "kubelet is posting ready status", now)
                       : condition(oldStatus, "Ready", false, "KubeletNotReady", notReady, now),
  });
  Json addresses = Json::array();
  bool seen4 = false, seen6 = false;
  for (const auto& ip : config.nodeIps) {
    bool& seen = isIpv6(ip) ? seen6 : seen4;
    if (seen) continue;  // one InternalIP per family
    seen = true;
    addresses.push_back({{"type", "InternalIP"}, {"address", ip}});
  }
  addresses.push_back({{"type", "Hostname"}, {"address", config.hostname}});
  status["addresses"] = std::move(addresses);
  status["daemonEndpoints"] = {{"kubeletEndpoint", {{"Port", config.kubeletPort}}}};
  status["nodeInfo"] = {{"machineID", m.machineId},
                        {"systemUUID", m.systemUuid},
                        {"bootID", m.bootId},
                        {"kernelVersion", m.kernelVersion},
                        {"osImage", m.osImage},
                        {"containerRuntimeVersion", health.runtimeVersion},
                        {"kubeletVersion", kubeapi::kKubernetesVersion},
                        {"kubeProxyVersion", ""},
                        {"operatingSystem", "linux"},
                        {"architecture", m.architecture}};
  return status;
}

Json makeNode(const NodeConfig& config, const MachineInfo& m, const RuntimeHealth& health,
              kubeapi::Time now) {
  Json labels = {{"kubernetes.io/hostname", config.hostname},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", m.architecture},
                 {"beta.kubernetes.io/os", "linux"},
                 {"beta.kubernetes.io/arch", m.architecture}};
  for (const auto& [k, v] : config.labels)
    labels[k] = v;
  Json node = {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", config.nodeName},
        {"labels", std::move(labels)},
        {"annotations", {{"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
      {"spec", Json::object()}};
  if (!config.taints.empty()) node["spec"]["taints"] = config.taints;
  if (!config.providerId.empty()) node["spec"]["providerID"] = config.providerId;
  node["status"] = nodeStatus(config, m, health, Json(), now);
  return node;
}

bool nodeStatusChanged(const Json& a, const Json& b) {
  auto strip = [](Json s) {
    for (Json& c : s["conditions"])
      c.erase("lastHeartbeatTime");
    return s;
  };
  return strip(a) != strip(b);
}

Json makeLease(const std::string& nodeName, const std::string& nodeUid, int durationSeconds,
               kubeapi::Time now) {
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", nodeName}, {"namespace", "kube-node-lease"}}},
                {"spec",
                 {{"holderIdentity", nodeName},
                  {"leaseDurationSeconds", durationSeconds},
                  {"renewTime", kubeapi::formatMicroTime(now)}}}};
  if (!nodeUid.empty()) {
    lease["metadata"]["ownerReferences"] = Json::array(
        {{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", nodeName}, {"uid", nodeUid}}});
  }
  return lease;
}

}  // namespace berth::kubelet
