#include "controlplane/controllers/replicaset_controller.h"

#include <algorithm>

#include "common/log.h"
#include "controlplane/controllers/active_pods.h"
#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/resources.h"
#include "controlplane/controllers/slow_start.h"
#include "controlplane/controllers/workload_fields.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/label_selector.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonField;
using kubeapi::ObjectPtr;
using nlohmann::json;

namespace {

const kubeapi::GroupVersionKind kReplicaSetKind{"apps", "v1", "ReplicaSet"};

// controller.GetPodFromTemplate: the template's labels, annotations, finalizers and spec, named
// "<rs>-<random>", controlled by the ReplicaSet.
json podFromTemplate(const json& rs) {
  const json& tmpl = jsonField(specOf(rs), "template");
  const json& tmplMeta = jsonField(tmpl, "metadata");
  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", json::object()}};
  for (const char* field : {"labels", "annotations", "finalizers"})
    if (tmplMeta.contains(field)) pod["metadata"][field] = tmplMeta[field];
  kubeapi::setGenerateName(pod, std::string(kubeapi::nameOf(rs)) + "-");
  kubeapi::setNamespace(pod, kubeapi::namespaceOf(rs));
  kubeapi::setOwnerReferences(pod, {newControllerRef(rs, kReplicaSetKind)});
  pod["spec"] = jsonField(tmpl, "spec");
  return pod;
}

bool labelsEqual(const json& a, const json& b) {
  return kubeapi::labelsOf(a) == kubeapi::labelsOf(b);
}

// calculateStatus: counts over the active pods the ReplicaSet controls; a manageReplicas error
// becomes (or clears) the ReplicaFailure condition.
json calculateStatus(const json& rs, const std::vector<ObjectPtr>& pods, const Status& manageErr,
                     int diff) {
  json status = statusOf(rs).is_object() ? statusOf(rs) : json::object();
  auto templateLabels =
      kubeapi::LabelSelector::fromSet(kubeapi::labelsOf(jsonField(specOf(rs), "template")));
  std::int32_t fullyLabeled = 0, ready = 0, available = 0;
  kubeapi::Time now = kubeapi::now();
  for (const auto& pod : pods) {
    if (templateLabels && templateLabels->matches(kubeapi::labelsJsonOf(*pod))) ++fullyLabeled;
    if (isPodReady(*pod)) {
      ++ready;
      if (isPodAvailable(*pod, minReadySeconds(rs), now)) ++available;
    }
  }
  json conditions = json::array();
  bool hadFailure = false;
  for (const json& c : kubeapi::jsonArray(status, "conditions")) {
    if (kubeapi::jsonString(c, "type") == "ReplicaFailure") {
      hadFailure = true;
      if (!manageErr) conditions.push_back(c);
      continue;
    }
    conditions.push_back(c);
  }
  if (!manageErr && !hadFailure) {
    conditions.push_back({{"type", "ReplicaFailure"},
                          {"status", "True"},
                          {"lastTransitionTime", kubeapi::formatTime(now)},
                          {"reason", diff < 0 ? "FailedCreate" : "FailedDelete"},
                          {"message", manageErr.error().message()}});
  }
  if (conditions.empty()) {
    status.erase("conditions");
  } else {
    status["conditions"] = std::move(conditions);
  }
  status["replicas"] = pods.size();
  status["fullyLabeledReplicas"] = fullyLabeled;
  status["readyReplicas"] = ready;
  status["availableReplicas"] = available;
  return status;
}

bool sameStatus(const json& rs, const json& status) {
  for (const char* field :
       {"replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"})
    if (intField(statusOf(rs), field) != intField(status, field)) return false;
  return intField(statusOf(rs), "observedGeneration") == kubeapi::generationOf(rs) &&
         jsonField(statusOf(rs), "conditions") == jsonField(status, "conditions");
}

}  // namespace

ReplicaSetController::ReplicaSetController(ControllerContext& context)
    : client_(context.client),
      replicaSets_(context.informers.informer(kReplicaSets)),
      pods_(context.informers.informer(kPods)),
      rsClient_(context.client->resource(kReplicaSets)),
      podClient_(context.client->resource(kPods)),
      recorder_(context.client, {.component = "replicaset-controller"}),
      workers_(context.options.concurrentSyncs),
      worker_("replicaset", [this](const std::string& key) { return sync(key); }) {
  replicaSets_.addEventHandler(
      {.onAdd = [this](const ObjectPtr& rs) { worker_.addObject(rs); },
       .onUpdate = [this](const ObjectPtr&, const ObjectPtr& rs) { worker_.addObject(rs); },
       .onDelete =
           [this](const ObjectPtr& rs) {
             expectations_.forget(kubeapi::objectKey(*rs));
             worker_.addObject(rs);
           }});
  pods_.addEventHandler(
      {.onAdd = [this](const ObjectPtr& p) { podAdded(p); },
       .onUpdate = [this](const ObjectPtr& o, const ObjectPtr& n) { podUpdated(o, n); },
       .onDelete = [this](const ObjectPtr& p) { podDeleted(p); }});
}

ReplicaSetController::~ReplicaSetController() {
  stop();
}

void ReplicaSetController::start() {
  worker_.start(workers_);
}

void ReplicaSetController::stop() {
  worker_.stop();
  recorder_.flush();
}

ObjectPtr ReplicaSetController::resolveController(const json& pod) const {
  auto ref = kubeapi::controllerOf(pod);
  if (!ref || ref->kind != kReplicaSetKind.kind) return nullptr;
  auto rs = replicaSets_.cache().get(kubeapi::namespaceOf(pod), ref->name);
  return rs && kubeapi::uidOf(*rs) == ref->uid ? rs : nullptr;
}

void ReplicaSetController::enqueueMatchingReplicaSets(const json& pod) {
  for (const auto& rs : replicaSets_.cache().inNamespace(kubeapi::namespaceOf(pod))) {
    auto selector = kubeapi::LabelSelector::fromLabelSelector(jsonField(specOf(*rs), "selector"));
    if (selector && !selector->empty() && selector->matches(kubeapi::labelsJsonOf(pod)))
      worker_.addObject(rs);
  }
}

void ReplicaSetController::podAdded(const ObjectPtr& pod) {
  // A pod already being deleted when first seen (after a restart) counts as a deletion.
  if (kubeapi::deletionTimestampOf(*pod)) return podDeleted(pod);
  if (kubeapi::controllerOf(*pod)) {
    if (auto rs = resolveController(*pod)) {
      expectations_.creationObserved(kubeapi::objectKey(*rs));
      worker_.addObject(rs);
    }
    return;
  }
  enqueueMatchingReplicaSets(*pod);
}

void ReplicaSetController::podUpdated(const ObjectPtr& oldPod, const ObjectPtr& newPod) {
  if (kubeapi::resourceVersionOf(*oldPod) == kubeapi::resourceVersionOf(*newPod)) return;
  bool labelsChanged = !labelsEqual(*oldPod, *newPod);
  if (kubeapi::deletionTimestampOf(*newPod)) {
    // The pod is going: its ReplicaSet may make a replacement now, without waiting for the
    // grace period (upstream's updatePod → deletePod).
    podDeleted(newPod);
    if (labelsChanged) podDeleted(oldPod);
    return;
  }
  auto oldRef = kubeapi::controllerOf(*oldPod);
  auto newRef = kubeapi::controllerOf(*newPod);
  if (oldRef && oldRef != newRef)
    if (auto rs = resolveController(*oldPod)) worker_.addObject(rs);
  if (newRef) {
    if (auto rs = resolveController(*newPod)) {
      worker_.addObject(rs);
      // Available only minReadySeconds after Ready: look again then.
      std::int32_t minReady = minReadySeconds(*rs);
      if (minReady > 0 && !isPodReady(*oldPod) && isPodReady(*newPod))
        worker_.addAfter(kubeapi::objectKey(*rs), std::chrono::seconds(minReady + 1));
    }
    return;
  }
  if (labelsChanged || oldRef) enqueueMatchingReplicaSets(*newPod);
}

void ReplicaSetController::podDeleted(const ObjectPtr& pod) {
  auto rs = resolveController(*pod);
  if (!rs) return;
  expectations_.deletionObserved(kubeapi::objectKey(*rs), kubeapi::objectKey(*pod));
  worker_.addObject(rs);
}

Status ReplicaSetController::sync(const std::string& key) {
  auto [ns, name] = QueueWorker::splitKey(key);
  ObjectPtr rs = replicaSets_.cache().get(ns, name);
  if (!rs) {
    expectations_.forget(key);
    return {};
  }
  bool needsSync = expectations_.satisfied(key);
  auto selector = kubeapi::LabelSelector::fromLabelSelector(jsonField(specOf(*rs), "selector"));
  if (!selector) {
    controllerLog()->error("replicaset [rs={}]: selector: {}", key, selector.error().message());
    return {};
  }
  std::vector<ObjectPtr> active;
  for (const auto& pod : pods_.cache().inNamespace(ns))
    if (isPodActive(*pod)) active.push_back(pod);
  // RecheckDeletionTimestamp: adopt only if the ReplicaSet read fresh is still this one.
  auto canAdopt = [&]() -> Status {
    auto fresh = rsClient_.inNamespace(ns).get(name);
    if (!fresh) return std::unexpected(fresh.error().toError());
    if (kubeapi::uidOf(*fresh) != kubeapi::uidOf(*rs))
      return fail(Code::kAborted, "original ReplicaSet {} is gone: got uid {}, wanted {}", key,
                  kubeapi::uidOf(*fresh), kubeapi::uidOf(*rs));
    if (kubeapi::deletionTimestampOf(*fresh))
      return fail(Code::kAborted, "ReplicaSet {} has just been deleted", key);
    return {};
  };
  auto pods = claimObjects(*rs, kReplicaSetKind, *selector, active, podClient_, canAdopt);
  if (!pods) return std::unexpected(pods.error());

  Status manageErr;
  int diff = static_cast<int>(pods->size()) - specReplicas(*rs);
  if (needsSync && !kubeapi::deletionTimestampOf(*rs)) manageErr = manageReplicas(*rs, *pods);
  json status = calculateStatus(*rs, *pods, manageErr, diff);
  if (auto s = updateStatus(*rs, status); !s) return s;
  // Resync after minReadySeconds, as upstream's last line of defence against clock skew.
  if (manageErr && minReadySeconds(*rs) > 0 && status["readyReplicas"] == specReplicas(*rs) &&
      status["availableReplicas"] != specReplicas(*rs))
    worker_.addAfter(key, std::chrono::seconds(minReadySeconds(*rs)));
  return manageErr;
}

Status ReplicaSetController::manageReplicas(const json& rs, const std::vector<ObjectPtr>& pods) {
  int diff = static_cast<int>(pods.size()) - specReplicas(rs);
  if (diff < 0) return createPods(rs, std::min(-diff, kBurstReplicas));
  if (diff > 0) return deletePods(rs, pods, std::min(diff, kBurstReplicas));
  return {};
}

Status ReplicaSetController::createPods(const json& rs, int count) {
  std::string key = kubeapi::objectKey(rs);
  expectations_.expectCreations(key, count);
  json ref = kubeapi::objectReference(rs);
  json pod = podFromTemplate(rs);
  auto pods = podClient_.inNamespace(kubeapi::namespaceOf(rs));
  auto [created, status] = slowStartBatch(count, 1, [&]() -> Status {
    auto made = pods.create(pod);
    if (!made) {
      recorder_.event(ref, "Warning", "FailedCreate",
                      fmt::format("Error creating: {}", made.error().message()));
      return std::unexpected(made.error().toError());
    }
    recorder_.event(ref, "Normal", "SuccessfulCreate",
                    fmt::format("Created pod: {}", kubeapi::nameOf(*made)));
    return {};
  });
  // The informer will never see the ones that failed or were never attempted.
  for (int i = created; i < count; ++i)
    expectations_.creationObserved(key);
  return status;
}

Status ReplicaSetController::deletePods(const json& rs, const std::vector<ObjectPtr>& pods,
                                        size_t count) {
  std::string key = kubeapi::objectKey(rs);
  auto victims = podsToDelete(pods, relatedPods(rs), count, kubeapi::now());
  std::vector<std::string> podKeys;
  for (const auto& p : victims)
    podKeys.push_back(kubeapi::objectKey(*p));
  expectations_.expectDeletions(key, podKeys);
  json ref = kubeapi::objectReference(rs);
  auto client = podClient_.inNamespace(kubeapi::namespaceOf(rs));
  return parallelFor(static_cast<int>(victims.size()), [&](int i) -> Status {
    std::string_view podName = kubeapi::nameOf(*victims[i]);
    auto removed = client.remove(podName);
    if (!removed) {
      expectations_.deletionObserved(key, podKeys[i]);
      if (removed.error().isNotFound()) return {};
      recorder_.event(ref, "Warning", "FailedDelete",
                      fmt::format("Error deleting: {}", removed.error().message()));
      return std::unexpected(removed.error().toError());
    }
    recorder_.event(ref, "Normal", "SuccessfulDelete", fmt::format("Deleted pod: {}", podName));
    return {};
  });
}

std::vector<ObjectPtr> ReplicaSetController::relatedPods(const json& rs) const {
  auto owner = kubeapi::controllerOf(rs);
  std::vector<ObjectPtr> related;
  for (const auto& pod : pods_.cache().inNamespace(kubeapi::namespaceOf(rs))) {
    auto podOwner = resolveController(*pod);
    if (!podOwner) continue;
    if (kubeapi::uidOf(*podOwner) == kubeapi::uidOf(rs) ||
        (owner && kubeapi::controllerOf(*podOwner) &&
         kubeapi::controllerOf(*podOwner)->uid == owner->uid))
      related.push_back(pod);
  }
  return related;
}

Status ReplicaSetController::updateStatus(const json& rs, const json& status) {
  if (sameStatus(rs, status)) return {};
  json updated = rs;
  updated["status"] = status;
  updated["status"]["observedGeneration"] = kubeapi::generationOf(rs);
  auto client = rsClient_.inNamespace(kubeapi::namespaceOf(rs));
  auto written = client.updateStatus(updated);
  if (written || !written.error().isConflict()) {
    if (!written) return std::unexpected(written.error().toError());
    return {};
  }
  // A stale cache: once more on the object read fresh (upstream's statusUpdateRetries).
  auto fresh = client.get(kubeapi::nameOf(rs));
  if (!fresh) return std::unexpected(fresh.error().toError());
  // Its spec changed meanwhile: the update's event syncs it again, with the new spec.
  if (kubeapi::generationOf(*fresh) != kubeapi::generationOf(rs)) return {};
  (*fresh)["status"] = updated["status"];
  auto again = client.updateStatus(*fresh);
  if (!again) return std::unexpected(again.error().toError());
  return {};
}

}  // namespace berth::controlplane::controllers
