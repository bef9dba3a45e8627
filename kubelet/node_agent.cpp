#include "kubelet/node_agent.h"

#include "kubeapi/backoff.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubelet/kubelet_log.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;

const kubeapi::GroupVersionResource kNodes{"", "v1", "nodes"};
const kubeapi::GroupVersionResource kLeases{"coordination.k8s.io", "v1", "leases"};

}  // namespace

NodeAgent::NodeAgent(std::shared_ptr<kubeapi::RestClient> api, CriClient& cri, MachineInfo machine,
                     NodeAgentOptions options)
    : api_(std::move(api)), cri_(cri), machine_(std::move(machine)), options_(std::move(options)) {}

NodeAgent::~NodeAgent() {
  stop();
}

RuntimeHealth NodeAgent::runtimeHealth() {
  RuntimeHealth h;
  if (auto v = cri_.version()) {
    h.runtimeVersion = v->runtime_name() + "://" + v->runtime_version();
  }
  auto st = cri_.status();
  if (!st) {
    h.message = st.error().message();
    return h;
  }
  for (const auto& c : st->status().conditions()) {
    if (c.type() == "RuntimeReady") h.runtimeReady = c.status();
    if (c.type() == "NetworkReady") h.networkReady = c.status();
    if (!c.status() && h.message.empty()) h.message = c.reason() + ": " + c.message();
  }
  return h;
}

Json NodeAgent::node() const {
  std::lock_guard lock(mu_);
  return node_;
}

void NodeAgent::pushPodCidr(const Json& node) {
  const std::string cidr = jsonString(jsonField(node, "spec"), "podCIDR");
  if (cidr.empty() || cidr == podCidrPushed_) return;
  if (auto st = cri_.updateRuntimeConfig(cidr); !st) {
    kubeletLog()->warn("UpdateRuntimeConfig [podCIDR={}]: {}", cidr, st.error().message());
    return;
  }
  podCidrPushed_ = cidr;
}

Status NodeAgent::registerNode() {
  auto nodes = api_->resource(kNodes, false);
  const Json wanted = makeNode(options_.node, machine_, runtimeHealth(), kubeapi::now());
  auto created = nodes.create(wanted);
  if (created) {
    kubeletLog()->info("registered node [node={}]", options_.node.nodeName);
    std::lock_guard lock(mu_);
    node_ = std::move(*created);
    return {};
  }
  if (!created.error().isAlreadyExists()) return std::unexpected(created.error().toError());
  // The node exists (a restart, or an operator created it): our labels and status win, its
  // spec (podCIDR, taints set since) stays.
  Json patch = {{"metadata", {{"labels", wanted["metadata"]["labels"]}}}};
  auto patched =
      BERTH_TRY(nodes.patch(options_.node.nodeName, kubeapi::PatchType::kMerge, patch.dump()));
  std::lock_guard lock(mu_);
  node_ = std::move(patched);
  kubeletLog()->info("node already registered, taking it over [node={}]", options_.node.nodeName);
  return {};
}

Status NodeAgent::start() {
  if (options_.registerNode) {
    kubeapi::Backoff backoff(
        {.initial = std::chrono::milliseconds(200), .cap = std::chrono::seconds(7)});
    while (true) {
      auto st = registerNode();
      if (st) break;
      kubeletLog()->warn("registering node [node={}]: {}", options_.node.nodeName,
                         st.error().message());
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, backoff.next(), [&] { return stopping_; })) {
        return fail(Code::kCancelled, "stopped before the node was registered");
      }
    }
  }
  updateStatus(true);
  renewLease();
  thread_ = std::thread([this] { loop(); });
  return {};
}

void NodeAgent::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NodeAgent::updateStatus(bool force) {
  auto nodes = api_->resource(kNodes, false);
  // As upstream's tryUpdateNodeStatus: the Node is read (from the server's cache) at every
  // round, so a podCIDR assigned since reaches the runtime even when the status is unchanged.
  if (auto fresh = nodes.get(options_.node.nodeName, {.resourceVersion = "0"})) {
    pushPodCidr(*fresh);
    std::lock_guard lock(mu_);
    node_ = std::move(*fresh);
  }
  Json current = node();
  const Json status = nodeStatus(options_.node, machine_, runtimeHealth(),
                                 jsonField(current, "status"), kubeapi::now());
  const bool due = std::chrono::steady_clock::now() - lastPosted_ >= options_.statusReportFrequency;
  if (!force && !due && !nodeStatusChanged(status, jsonField(current, "status"))) return;
  Json patch = {{"status", status}};
  auto patched =
      nodes.patch(options_.node.nodeName, kubeapi::PatchType::kMerge, patch.dump(), {}, "status");
  if (!patched) {
    kubeletLog()->warn("posting node status [node={}]: {}", options_.node.nodeName,
                       patched.error().toError().message());
    return;
  }
  lastPosted_ = std::chrono::steady_clock::now();
  pushPodCidr(*patched);
  std::lock_guard lock(mu_);
  node_ = std::move(*patched);
}

void NodeAgent::renewLease() {
  const std::string& name = options_.node.nodeName;
  auto leases = api_->resource(kLeases).inNamespace("kube-node-lease");
  const Json lease = makeLease(name, std::string(kubeapi::uidOf(node())),
                               options_.leaseDurationSeconds, kubeapi::now());
  auto existing = leases.get(name);
  if (!existing && existing.error().isNotFound()) {
    if (auto created = leases.create(lease); !created && !created.error().isAlreadyExists()) {
      kubeletLog()->warn("creating lease [node={}]: {}", name, created.error().toError().message());
    }
    return;
  }
  if (!existing) {
    kubeletLog()->warn("reading lease [node={}]: {}", name, existing.error().toError().message());
    return;
  }
  Json updated = *existing;
  updated["spec"] = lease["spec"];
  if (lease["metadata"].contains("ownerReferences")) {
    updated["metadata"]["ownerReferences"] = lease["metadata"]["ownerReferences"];
  }
  if (auto st = leases.update(updated); !st) {
    kubeletLog()->warn("renewing lease [node={}]: {}", name, st.error().toError().message());
  }
}

void NodeAgent::loop() {
  const auto renewInterval = std::chrono::milliseconds(options_.leaseDurationSeconds * 250);
  auto nextLease = std::chrono::steady_clock::now() + renewInterval;
  auto nextStatus = std::chrono::steady_clock::now() + options_.statusUpdateFrequency;
  while (true) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_until(lock, std::min(nextLease, nextStatus), [&] { return stopping_; })) return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= nextLease) {
      renewLease();
      nextLease = now + renewInterval;
    }
    if (now >= nextStatus) {
      updateStatus(false);
      nextStatus = now + options_.statusUpdateFrequency;
    }
  }
}

}  // namespace berth::kubelet
