#include "controlplane/controllers/node_lifecycle_controller.h"

#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/node_health.h"
#include "controlplane/controllers/pod_indexes.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/meta_time.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

constexpr std::string_view kLeaseNamespace = "kube-node-lease";

std::string readyHeartbeat(const json& node) {
  for (const json& c : jsonArray(jsonField(node, "status"), "conditions"))
    if (jsonString(c, "type") == "Ready") return jsonString(c, "lastHeartbeatTime");
  return "";
}

std::string nameOf(const json& obj) {
  return jsonString(jsonField(obj, "metadata"), "name");
}

}  // namespace

NodeLifecycleController::NodeLifecycleController(ControllerContext& context)
    : context_(context),
      nodes_(&context.informers.informer({"", "v1", "nodes"}, false)),
      leases_(&context.informers.informer({"coordination.k8s.io", "v1", "leases"})),
      pods_(&context.informers.informer({"", "v1", "pods"})),
      recorder_(std::make_unique<kubeapi::EventRecorder>(
          context.client, kubeapi::EventSource{.component = "node-controller"})),
      worker_("nodelifecycle", [this](const std::string& key) { return sync(key); }) {
  addPodsByNodeIndex(*pods_);
  auto enqueue = [this](const kubeapi::ObjectPtr& n) { worker_.add(nameOf(*n)); };
  nodes_->addEventHandler({.onAdd = enqueue,
                           .onUpdate = [=](const auto&, const auto& n) { enqueue(n); },
                           .onDelete = enqueue});
  // A Lease is named after its node.
  auto enqueueLease = [this](const kubeapi::ObjectPtr& l) {
    if (jsonString((*l)["metadata"], "namespace") == kLeaseNamespace) worker_.add(nameOf(*l));
  };
  leases_->addEventHandler(
      {.onAdd = enqueueLease, .onUpdate = [=](const auto&, const auto& l) { enqueueLease(l); }});
}

NodeLifecycleController::~NodeLifecycleController() {
  stop();
}

void NodeLifecycleController::start() {
  worker_.start(context_.options.concurrentSyncs);
  monitor_ = std::thread([this] { monitorLoop(); });
}

void NodeLifecycleController::stop() {
  {
    std::lock_guard lock(monitorMu_);
    stopping_ = true;
  }
  monitorCv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  worker_.stop();
  recorder_->flush();
}

// monitorNodeHealth's period: a node that stopped posting changes nothing we watch.
void NodeLifecycleController::monitorLoop() {
  std::unique_lock lock(monitorMu_);
  while (!monitorCv_.wait_for(lock, context_.options.nodeMonitorPeriod,
                              [this] { return stopping_; })) {
    for (const auto& key : nodes_->cache().keys())
      worker_.add(key);
  }
}

bool NodeLifecycleController::heartbeatExpired(const json& node) {
  std::string name = nameOf(node);
  std::string heartbeat = readyHeartbeat(node);
  std::string renew;
  if (auto lease = leases_->cache().get(kLeaseNamespace, name))
    renew = jsonString(jsonField(*lease, "spec"), "renewTime");
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(healthMu_);
  auto [it, added] = health_.try_emplace(name);
  Health& h = it->second;
  if (added || h.heartbeat != heartbeat || h.leaseRenew != renew) {
    h.heartbeat = heartbeat;
    h.leaseRenew = renew;
    h.probe = now;
  }
  auto grace = nodeConditionStatus(node, "Ready").empty() ? context_.options.nodeStartupGracePeriod
                                                          : context_.options.nodeMonitorGracePeriod;
  return now > h.probe + grace;
}

void NodeLifecycleController::recordReadyChange(const json& node) {
  std::string name = nameOf(node);
  std::string ready = nodeConditionStatus(node, "Ready");
  std::string before;
  {
    std::lock_guard lock(healthMu_);
    before = std::exchange(health_[name].ready, ready);
  }
  std::string reason;
  if (before == "True" && ready != "True") reason = "NodeNotReady";
  if (!before.empty() && before != "True" && ready == "True") reason = "NodeReady";
  if (reason.empty()) return;
  controllerLog()->info("[node={}] Ready {} -> {}", name, before, ready);
  // RecordNodeStatusChange.
  recorder_->event(kubeapi::objectReference(node), "Normal", reason,
                   fmt::format("Node {} status is now: {}", name, reason));
}

Status NodeLifecycleController::sync(const std::string& name) {
  auto cached = nodes_->cache().get(name);
  if (!cached) {
    std::lock_guard lock(healthMu_);
    health_.erase(name);
    return {};
  }
  json node = *cached;
  auto nodes = context_.client->resource({"", "v1", "nodes"}, false);
  if (heartbeatExpired(node)) {
    json unknown = node;
    if (markNodeStatusUnknown(unknown, kubeapi::now())) {
      auto updated = nodes.updateStatus(unknown);
      if (!updated) return std::unexpected(updated.error().toError().context("node " + name));
      controllerLog()->info("[node={}] kubelet stopped posting node status", name);
      node = std::move(*updated);
    }
  }
  recordReadyChange(node);
  // The kubelet is gone, so nobody else will say its pods are not ready.
  if (nodeConditionStatus(node, "Ready") == "Unknown") {
    if (auto s = markPodsNotReady(name); !s) return s;
  }
  return updateTaints(node);
}

// MarkPodsNotReady: the Ready condition of each pod on the node becomes False.
Status NodeLifecycleController::markPodsNotReady(const std::string& nodeName) {
  auto pods = context_.client->resource({"", "v1", "pods"});
  for (const auto& cached : pods_->cache().byIndex(kPodsByNodeIndex, nodeName)) {
    json pod = *cached;
    json& conditions = pod["status"]["conditions"];
    if (!conditions.is_array()) continue;
    auto ready = std::ranges::find_if(
        conditions, [](const json& c) { return jsonString(c, "type") == "Ready"; });
    if (ready == conditions.end() || jsonString(*ready, "status") == "False") continue;
    (*ready)["status"] = "False";
    (*ready)["lastTransitionTime"] = kubeapi::formatTime(kubeapi::now());
    std::string ns = jsonString(pod["metadata"], "namespace");
    auto updated = pods.inNamespace(ns).updateStatus(pod);
    if (!updated && !updated.error().isNotFound())
      return std::unexpected(
          updated.error().toError().context("mark pod " + ns + "/" + nameOf(pod) + " not ready"));
    recorder_->event(kubeapi::objectReference(pod), "Warning", "NodeNotReady", "Node is not ready");
  }
  return {};
}

Status NodeLifecycleController::updateTaints(const json& node) {
  json taints = desiredNodeTaints(node, kubeapi::now());
  const json& current = jsonArray(jsonField(node, "spec"), "taints");
  if (taints == current) return {};
  json changed = node;
  if (taints.empty())
    changed["spec"].erase("taints");
  else
    changed["spec"]["taints"] = taints;
  auto updated = context_.client->resource({"", "v1", "nodes"}, false).update(changed);
  if (!updated)
    return std::unexpected(updated.error().toError().context("taint node " + nameOf(node)));
  controllerLog()->info("[node={}] taints {}", nameOf(node), taints.dump());
  return {};
}

}  // namespace berth::controlplane::controllers
