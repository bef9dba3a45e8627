#pragma once
// The scheduler's view of the cluster for one cycle (kube-scheduler's framework.NodeInfo and
// its Snapshot): each node with the pods assigned to it and what they request, so the filters
// and scores are pure functions of (pod, node, snapshot).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/json_fields.h"
#include "kubeapi/object_cache.h"

namespace berth::controlplane::scheduler {

// framework.Resource: cpu in millicores, the rest in units; "pods" is a count.
struct Resources {
  std::int64_t milliCpu = 0;
  std::int64_t memory = 0;
  std::int64_t ephemeralStorage = 0;
  std::int64_t pods = 0;
  std::map<std::string, std::int64_t> scalar;  // extended resources, hugepages-*

  void add(const Resources& o);
  void setMax(const Resources& o);
  bool empty() const;
};

// A v1 ResourceList ({"cpu": "500m", ...}); unparsable quantities count as zero (the API
// server validated them).
Resources resourceList(const nlohmann::json& list);

// resourcehelper.PodRequests: app containers and sidecars (restartable init containers) add
// up, an init container needs its own request beside the sidecars started before it, the pod
// needs the larger of the two, plus its overhead. A missing request falls back to the limit.
Resources podRequests(const nlohmann::json& pod);
// The same with the scheduler's defaults for containers that request no cpu (100m) or memory
// (200Mi), which the scores use so that best-effort pods still spread.
Resources podNonZeroRequests(const nlohmann::json& pod);

struct HostPort {
  std::string ip;  // "0.0.0.0" when unset
  std::string protocol;
  std::int64_t port = 0;
  bool conflicts(const HostPort& o) const;
};
std::vector<HostPort> podHostPorts(const nlohmann::json& pod);

struct NodeInfo {
  kubeapi::ObjectPtr node;
  std::vector<kubeapi::ObjectPtr> pods;
  Resources allocatable;
  Resources requested;
  Resources nonZeroRequested;
  std::vector<HostPort> usedPorts;

  explicit NodeInfo(kubeapi::ObjectPtr n);
  void addPod(kubeapi::ObjectPtr pod);
  const std::string& name() const;
  const nlohmann::json& labels() const;
};

struct Snapshot {
  std::vector<NodeInfo> nodes;  // by name
  // Unbound claims and PVs, by "namespace/name" and name (VolumeBinding).
  std::map<std::string, kubeapi::ObjectPtr, std::less<>> claims;
  std::map<std::string, kubeapi::ObjectPtr, std::less<>> volumes;
  std::map<std::string, kubeapi::ObjectPtr, std::less<>> storageClasses;
  // Namespace name -> its labels (pod affinity's namespaceSelector).
  std::map<std::string, nlohmann::json, std::less<>> namespaceLabels;
  // What upstream's default spreading derives a pod's selector from: Services by namespace,
  // ReplicaSets and StatefulSets by "namespace/name".
  std::vector<kubeapi::ObjectPtr> services;
  std::map<std::string, kubeapi::ObjectPtr, std::less<>> replicaSets;
  std::map<std::string, kubeapi::ObjectPtr, std::less<>> statefulSets;

  // Nodes and the pods placed on them (pods naming an unknown node are left out).
  static Snapshot build(std::vector<kubeapi::ObjectPtr> nodes,
                        const std::vector<kubeapi::ObjectPtr>& assignedPods);
  const NodeInfo* find(std::string_view name) const;
  NodeInfo* find(std::string_view name);
};

// Field reads two levels deep (kubeapi/json_fields.h reads one): null or "" when absent.
const nlohmann::json& field(const nlohmann::json& obj, std::string_view a);
const nlohmann::json& field(const nlohmann::json& obj, std::string_view a, std::string_view b);
std::string stringField(const nlohmann::json& obj, std::string_view a, std::string_view b);
std::string namespaceOf(const nlohmann::json& obj);

}  // namespace berth::controlplane::scheduler
