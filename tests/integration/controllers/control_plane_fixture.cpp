#include "tests/integration/controllers/control_plane_fixture.h"

#include <thread>

#include "kubeapi/kubeconfig.h"
#include "kubeapi/meta_time.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::testing {

namespace {

Error apiFailure(std::string_view what, const kubeapi::ApiError& e) {
  return Error(Code::kInternal, fmt::format("{}: {}", what, e.message()));
}

std::string nowRfc3339() {
  return kubeapi::formatTime(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
}

}  // namespace

Result<std::unique_ptr<ControlPlaneFixture>> ControlPlaneFixture::start(
    ServerFixture::Options options) {
  auto server = ServerFixture::start(std::move(options));
  if (!server) return std::unexpected(server.error());
  auto client = kubeapi::RestClient::fromKubeconfig((*server)->adminKubeconfig().string());
  if (!client) return std::unexpected(client.error());
  std::unique_ptr<ControlPlaneFixture> f(new ControlPlaneFixture());
  f->server_ = std::move(*server);
  f->client_ = std::move(*client);
  auto kubeletClient = kubeapi::RestClient::fromKubeconfig(f->server_->adminKubeconfig());
  if (!kubeletClient) return std::unexpected(kubeletClient.error());
  f->kubeletClient_ = std::move(*kubeletClient);
  return f;
}

ControlPlaneFixture::~ControlPlaneFixture() {
  if (manager_) manager_->stop();
}

Status ControlPlaneFixture::startControllers(std::vector<std::string> names,
                                             controlplane::controllers::ControllerOptions options) {
  options.controllers = std::move(names);
  // A client of its own, as the manager has (and kube-controller-manager's --kube-api-qps 20,
  // --kube-api-burst 30): the test's polling must not eat the controllers' request budget.
  auto kubeconfig = kubeapi::Kubeconfig::load(server_->adminKubeconfig());
  if (!kubeconfig) return std::unexpected(kubeconfig.error());
  auto config = kubeconfig->restConfig();
  if (!config) return std::unexpected(config.error());
  config->qps = 20;
  config->burst = 30;
  auto client = kubeapi::RestClient::create(std::move(*config));
  if (!client) return std::unexpected(client.error());
  manager_.reset();  // the old one stops before the new one starts
  manager_ = std::make_unique<controlplane::controllers::ControllerManager>(*client, options);
  return manager_->start(std::chrono::seconds(30));
}

Status ControlPlaneFixture::createReadyNode(const std::string& name, const std::string& cpu,
                                            const std::string& memory,
                                            const nlohmann::json& labels) {
  nlohmann::json node = {
      {"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}, {"labels", labels}}}};
  node["metadata"]["labels"]["kubernetes.io/hostname"] = name;
  auto nodes = client_->resource({"", "v1", "nodes"}, false);
  auto created = nodes.create(node);
  if (!created) return std::unexpected(apiFailure("create node " + name, created.error()));
  nlohmann::json resources = {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}};
  // A controller (nodeipam) may write the Node first: re-read it on a conflict.
  nlohmann::json current = std::move(*created);
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string now = nowRfc3339();
    current["status"] = {{"capacity", resources},
                         {"allocatable", resources},
                         {"conditions",
                          {{{"type", "Ready"},
                            {"status", "True"},
                            {"reason", "KubeletReady"},
                            {"message", "kubelet is posting ready status"},
                            {"lastHeartbeatTime", now},
                            {"lastTransitionTime", now}}}},
                         {"addresses", {{{"type", "InternalIP"}, {"address", "127.0.0.1"}}}}};
    auto updated = nodes.updateStatus(current);
    if (updated) return {};
    if (!updated.error().isConflict())
      return std::unexpected(apiFailure("node status " + name, updated.error()));
    auto fresh = nodes.get(name);
    if (!fresh) return std::unexpected(apiFailure("get node " + name, fresh.error()));
    current = std::move(*fresh);
  }
  return fail(Code::kAborted, "node status {}: conflicts", name);
}

Status ControlPlaneFixture::renewNodeLease(const std::string& name) {
  auto leases = kubeletClient_->resource({"coordination.k8s.io", "v1", "leases"})
                    .inNamespace("kube-node-lease");
  std::string now = kubeapi::formatMicroTime(kubeapi::now());
  nlohmann::json renew = {{"spec", {{"renewTime", now}}}};
  auto patched = leases.patch(name, kubeapi::PatchType::kMerge, renew.dump());
  if (patched) return {};
  if (!patched.error().isNotFound())
    return std::unexpected(apiFailure("renew lease " + name, patched.error()));
  nlohmann::json lease = {
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", {{"name", name}, {"namespace", "kube-node-lease"}}},
      {"spec", {{"holderIdentity", name}, {"leaseDurationSeconds", 40}, {"renewTime", now}}}};
  auto created = leases.create(lease);
  if (!created) return std::unexpected(apiFailure("create lease " + name, created.error()));
  return {};
}

Status ControlPlaneFixture::patchNode(const std::string& name, const nlohmann::json& mergePatch) {
  auto nodes = client_->resource({"", "v1", "nodes"}, false);
  auto patched = nodes.patch(name, kubeapi::PatchType::kMerge, mergePatch.dump());
  if (!patched) return std::unexpected(apiFailure("patch node " + name, patched.error()));
  return {};
}

Status ControlPlaneFixture::postNodeReady(const std::string& name) {
  auto nodes = client_->resource({"", "v1", "nodes"}, false);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto node = nodes.get(name);
    if (!node) return std::unexpected(apiFailure("get node " + name, node.error()));
    std::string now = nowRfc3339();
    for (auto& c : (*node)["status"]["conditions"]) {
      if (c.value("type", "") != "Ready") continue;
      if (c.value("status", "") != "True") c["lastTransitionTime"] = now;
      c["status"] = "True";
      c["reason"] = "KubeletReady";
      c["message"] = "kubelet is posting ready status";
      c["lastHeartbeatTime"] = now;
    }
    auto updated = nodes.updateStatus(*node);
    if (updated) return {};
    if (!updated.error().isConflict())
      return std::unexpected(apiFailure("node status " + name, updated.error()));
  }
  return fail(Code::kAborted, "node status {}: conflicts", name);
}

Status ControlPlaneFixture::markPodReady(const std::string& ns, const std::string& name,
                                         const std::string& podIp) {
  auto pods = client_->resource({"", "v1", "pods"}).inNamespace(ns);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto pod = pods.get(name);
    if (!pod) return std::unexpected(apiFailure("get pod " + name, pod.error()));
    std::string now = nowRfc3339();
    auto& status = (*pod)["status"];
    status["phase"] = "Running";
    status["podIP"] = podIp;
    status["podIPs"] = {{{"ip", podIp}}};
    status["startTime"] = now;
    status["conditions"] = nlohmann::json::array();
    for (const char* type : {"PodScheduled", "Initialized", "ContainersReady", "Ready"})
      status["conditions"].push_back(
          {{"type", type}, {"status", "True"}, {"lastTransitionTime", now}});
    auto updated = pods.updateStatus(*pod);
    if (updated) return {};
    if (!updated.error().isConflict())
      return std::unexpected(apiFailure("pod status " + name, updated.error()));
  }
  return fail(Code::kAborted, "pod status {}: conflicts", name);
}

bool ControlPlaneFixture::eventually(const std::function<bool()>& condition,
                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

}  // namespace berth::testing
