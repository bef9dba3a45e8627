#include "controlplane/scheduler/node_info.h"

#include <algorithm>
#include <utility>

#include "kubeapi/quantity.h"

namespace berth::controlplane::scheduler {

namespace {

constexpr std::int64_t kDefaultMilliCpuRequest = 100;  // schedutil.DefaultMilliCPURequest
constexpr std::int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;  // schedutil.DefaultMemoryRequest

std::int64_t quantityValue(const nlohmann::json& q, bool milli) {
  auto parsed = kubeapi::Quantity::fromJson(q);
  if (!parsed) return 0;
  return milli ? parsed->milliValue() : parsed->value();
}

// A container's requests, each missing one taken from its limit (as API defaulting does).
nlohmann::json containerRequests(const nlohmann::json& c) {
  nlohmann::json requests = field(c, "resources", "requests");
  if (!requests.is_object()) requests = nlohmann::json::object();
  const auto& limits = field(c, "resources", "limits");
  if (limits.is_object())
    for (const auto& [name, q] : limits.items())
      if (!requests.contains(name)) requests[name] = q;
  return requests;
}

Resources containerResources(const nlohmann::json& c, bool nonZero) {
  nlohmann::json requests = containerRequests(c);
  Resources r = resourceList(requests);
  if (nonZero) {
    if (!requests.contains("cpu")) r.milliCpu = kDefaultMilliCpuRequest;
    if (!requests.contains("memory")) r.memory = kDefaultMemoryRequest;
  }
  return r;
}

Resources sumRequests(const nlohmann::json& pod, bool nonZero) {
  const auto& spec = field(pod, "spec");
  Resources reqs;
  for (const auto& c : field(spec, "containers"))
    reqs.add(containerResources(c, nonZero));
  Resources sidecars;
  Resources initMax;
  for (const auto& c : field(spec, "initContainers")) {
    Resources r = containerResources(c, nonZero);
    if (kubeapi::jsonString(c, "restartPolicy") == "Always") {
      reqs.add(r);
      sidecars.add(r);
      r = sidecars;
    } else {
      r.add(sidecars);
    }
    initMax.setMax(r);
  }
  reqs.setMax(initMax);
  if (field(spec, "overhead").is_object()) reqs.add(resourceList(spec["overhead"]));
  return reqs;
}

}  // namespace

const nlohmann::json& field(const nlohmann::json& obj, std::string_view a) {
  return kubeapi::jsonField(obj, a);
}

const nlohmann::json& field(const nlohmann::json& obj, std::string_view a, std::string_view b) {
  return kubeapi::jsonField(kubeapi::jsonField(obj, a), b);
}

std::string stringField(const nlohmann::json& obj, std::string_view a, std::string_view b) {
  return kubeapi::jsonString(kubeapi::jsonField(obj, a), b);
}

std::string namespaceOf(const nlohmann::json& obj) {
  return stringField(obj, "metadata", "namespace");
}

void Resources::add(const Resources& o) {
  milliCpu += o.milliCpu;
  memory += o.memory;
  ephemeralStorage += o.ephemeralStorage;
  pods += o.pods;
  for (const auto& [k, v] : o.scalar)
    scalar[k] += v;
}

void Resources::setMax(const Resources& o) {
  milliCpu = std::max(milliCpu, o.milliCpu);
  memory = std::max(memory, o.memory);
  ephemeralStorage = std::max(ephemeralStorage, o.ephemeralStorage);
  pods = std::max(pods, o.pods);
  for (const auto& [k, v] : o.scalar)
    scalar[k] = std::max(scalar[k], v);
}

bool Resources::empty() const {
  return milliCpu == 0 && memory == 0 && ephemeralStorage == 0 && scalar.empty();
}

Resources resourceList(const nlohmann::json& list) {
  Resources r;
  if (!list.is_object()) return r;
  for (const auto& [name, q] : list.items()) {
    if (name == "cpu")
      r.milliCpu += quantityValue(q, true);
    else if (name == "memory")
      r.memory += quantityValue(q, false);
    else if (name == "ephemeral-storage")
      r.ephemeralStorage += quantityValue(q, false);
    else if (name == "pods")
      r.pods += quantityValue(q, false);
    else
      r.scalar[name] += quantityValue(q, false);
  }
  return r;
}

Resources podRequests(const nlohmann::json& pod) {
  return sumRequests(pod, false);
}

Resources podNonZeroRequests(const nlohmann::json& pod) {
  return sumRequests(pod, true);
}

bool HostPort::conflicts(const HostPort& o) const {
  if (port != o.port || protocol != o.protocol) return false;
  return ip == o.ip || ip == "0.0.0.0" || o.ip == "0.0.0.0";
}

std::vector<HostPort> podHostPorts(const nlohmann::json& pod) {
  std::vector<HostPort> out;
  for (const auto& c : field(pod, "spec", "containers"))
    for (const auto& p : field(c, "ports")) {
      const auto& hostPort = field(p, "hostPort");
      if (!hostPort.is_number_integer() || hostPort.get<std::int64_t>() <= 0) continue;
      HostPort hp{kubeapi::jsonString(p, "hostIP"), kubeapi::jsonString(p, "protocol"),
                  hostPort.get<std::int64_t>()};
      if (hp.ip.empty()) hp.ip = "0.0.0.0";
      if (hp.protocol.empty()) hp.protocol = "TCP";
      out.push_back(std::move(hp));
    }
  return out;
}

NodeInfo::NodeInfo(kubeapi::ObjectPtr n)
    : node(std::move(n)), allocatable(resourceList(field(*node, "status", "allocatable"))) {}

void NodeInfo::addPod(kubeapi::ObjectPtr pod) {
  requested.add(podRequests(*pod));
  nonZeroRequested.add(podNonZeroRequests(*pod));
  for (auto& hp : podHostPorts(*pod))
    usedPorts.push_back(std::move(hp));
  pods.push_back(std::move(pod));
}

const std::string& NodeInfo::name() const {
  return field(*node, "metadata", "name").get_ref<const std::string&>();
}

const nlohmann::json& NodeInfo::labels() const {
  return field(*node, "metadata", "labels");
}

Snapshot Snapshot::build(std::vector<kubeapi::ObjectPtr> nodes,
                         const std::vector<kubeapi::ObjectPtr>& assignedPods) {
  Snapshot s;
  std::ranges::sort(
      nodes, {}, [](const kubeapi::ObjectPtr& n) { return stringField(*n, "metadata", "name"); });
  for (auto& n : nodes)
    if (field(*n, "metadata", "name").is_string()) s.nodes.emplace_back(std::move(n));
  for (const auto& pod : assignedPods) {
    NodeInfo* info = s.find(stringField(*pod, "spec", "nodeName"));
    if (info) info->addPod(pod);
  }
  return s;
}

NodeInfo* Snapshot::find(std::string_view name) {
  return const_cast<NodeInfo*>(std::as_const(*this).find(name));
}

const NodeInfo* Snapshot::find(std::string_view name) const {
  auto it = std::ranges::lower_bound(
      nodes, name, {}, [](const NodeInfo& n) -> std::string_view { return n.name(); });
  return it != nodes.end() && it->name() == name ? &*it : nullptr;
}

}  // namespace berth::controlplane::scheduler
