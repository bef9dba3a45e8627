#include "controlplane/controllers/pod_gc_controller.h"

#include <algorithm>

#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/pod_disruption.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

bool terminated(const json& pod) {
  std::string phase = jsonString(jsonField(pod, "status"), "phase");
  return phase == "Succeeded" || phase == "Failed";
}

bool terminating(const json& pod) {
  return jsonField(jsonField(pod, "metadata"), "deletionTimestamp").is_string();
}

}  // namespace

std::vector<kubeapi::ObjectPtr> terminatedPodsOverThreshold(std::vector<kubeapi::ObjectPtr> pods,
                                                            int threshold) {
  std::erase_if(pods, [](const auto& p) { return !terminated(*p) || terminating(*p); });
  if (threshold <= 0 || static_cast<int>(pods.size()) <= threshold) return {};
  // RFC 3339 UTC times sort as text.
  std::ranges::stable_sort(
      pods, {}, [](const auto& p) { return jsonString((*p)["metadata"], "creationTimestamp"); });
  pods.resize(pods.size() - static_cast<size_t>(threshold));
  return pods;
}

PodGcController::PodGcController(ControllerContext& context)
    : context_(context),
      nodes_(&context.informers.informer({"", "v1", "nodes"}, false)),
      pods_(&context.informers.informer({"", "v1", "pods"})) {}

PodGcController::~PodGcController() {
  stop();
}

void PodGcController::start() {
  thread_ = std::thread([this] { loop(); });
}

void PodGcController::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PodGcController::loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, context_.options.podGcPeriod, [this] { return stopping_; })) {
    lock.unlock();
    gc();
    lock.lock();
  }
}

void PodGcController::gc() {
  auto pods = pods_->cache().list();
  for (const auto& pod : terminatedPodsOverThreshold(
           pods, static_cast<int>(context_.options.terminatedPodGcThreshold)))
    forceDelete(*pod, "terminated pods over --terminated-pod-gc-threshold");
  gcOrphaned(pods);
  gcUnscheduledTerminating(pods);
}

void PodGcController::gcOrphaned(const std::vector<kubeapi::ObjectPtr>& pods) {
  auto nodes = context_.client->resource({"", "v1", "nodes"}, false);
  std::map<std::string, bool> gone;  // node -> confirmed absent by the API
  for (const auto& pod : pods) {
    std::string node = jsonString((*pod)["spec"], "nodeName");
    if (node.empty() || nodes_->cache().get(node)) continue;
    // The cache may lag a Node just created: ask the API before deleting its pods.
    auto [it, added] = gone.try_emplace(node, false);
    if (added) {
      auto got = nodes.get(node);
      it->second = !got && got.error().isNotFound();
    }
    if (it->second)
      forceDelete(*pod, "node " + node + " no longer exists",
                  Disruption{"DeletionByPodGC", "PodGC: node no longer exists"});
  }
}

void PodGcController::gcUnscheduledTerminating(const std::vector<kubeapi::ObjectPtr>& pods) {
  for (const auto& pod : pods)
    if (terminating(*pod) && jsonString((*pod)["spec"], "nodeName").empty())
      forceDelete(*pod, "terminating and never scheduled");
}

// markFailedAndDeletePod(WithCondition): a pod no kubelet will finish is moved to Failed first.
void PodGcController::forceDelete(const json& pod, std::string_view why,
                                  std::optional<Disruption> disruption) {
  std::string ns = jsonString(pod["metadata"], "namespace");
  std::string name = jsonString(pod["metadata"], "name");
  auto pods = context_.client->resource({"", "v1", "pods"}).inNamespace(ns);
  if (disruption) {
    if (auto s = markPodDisrupted(pods, name, disruption->reason, disruption->message, true); !s)
      controllerLog()->warn("[pod={}/{}] mark failed: {}", ns, name, s.error().message());
  }
  auto deleted = pods.remove(
      name, {.gracePeriodSeconds = 0, .preconditionUid = jsonString(pod["metadata"], "uid")});
  if (!deleted && !deleted.error().isNotFound()) {
    controllerLog()->warn("[pod={}/{}] delete: {}", ns, name, deleted.error().message());
    return;
  }
  controllerLog()->info("[pod={}/{}] deleted: {}", ns, name, why);
}

}  // namespace berth::controlplane::controllers
