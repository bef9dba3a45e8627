#include "controlplane/controllers/deployment_controller.h"

#include <algorithm>

#include "common/log.h"
#include "controlplane/controllers/controller_ref.h"
#include "controlplane/controllers/deployment_util.h"
#include "controlplane/controllers/resources.h"
#include "controlplane/controllers/workload_fields.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/label_selector.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using namespace deployment;  // NOLINT: this file is the Deployment controller
using kubeapi::jsonBool;
using kubeapi::jsonField;
using kubeapi::jsonString;
using kubeapi::ObjectPtr;
using nlohmann::json;

namespace {

const kubeapi::GroupVersionKind kDeploymentKind{"apps", "v1", "Deployment"};

const json& templateOf(const json& obj) {
  return jsonField(specOf(obj), "template");
}

// The status as Go's omitempty would write it, so a status read back equals the one computed.
json normalized(const json& status) {
  json out = json::object();
  if (!status.is_object()) return out;
  for (const auto& [k, v] : status.items()) {
    if (v.is_null() || (v.is_number_integer() && v.get<std::int64_t>() == 0) ||
        (v.is_array() && v.empty()))
      continue;
    out[k] = v;
  }
  return out;
}

Error apiError(const kubeapi::ApiError& e) {
  return e.toError();
}

}  // namespace

std::vector<json> DeploymentController::Sets::all() const {
  std::vector<json> all = oldRSs;
  if (newRS) all.push_back(*newRS);
  return all;
}

DeploymentController::DeploymentController(ControllerContext& context)
    : deployments_(context.informers.informer(kDeployments)),
      replicaSets_(context.informers.informer(kReplicaSets)),
      pods_(context.informers.informer(kPods)),
      deploymentClient_(context.client->resource(kDeployments)),
      rsClient_(context.client->resource(kReplicaSets)),
      recorder_(context.client, {.component = "deployment-controller"}),
      workers_(context.options.concurrentSyncs),
      worker_("deployment", [this](const std::string& key) { return sync(key); }) {
  deployments_.addEventHandler(
      {.onAdd = [this](const ObjectPtr& d) { worker_.addObject(d); },
       .onUpdate = [this](const ObjectPtr&, const ObjectPtr& d) { worker_.addObject(d); },
       .onDelete = [this](const ObjectPtr& d) { worker_.addObject(d); }});
  replicaSets_.addEventHandler(
      {.onAdd =
           [this](const ObjectPtr& rs) {
             if (kubeapi::controllerOf(*rs)) return enqueueOwnerOf(*rs);
             enqueueMatchingDeployments(*rs);
           },
       .onUpdate = [this](const ObjectPtr& o, const ObjectPtr& n) { replicaSetUpdated(o, n); },
       .onDelete = [this](const ObjectPtr& rs) { enqueueOwnerOf(*rs); }});
  pods_.addEventHandler({.onDelete = [this](const ObjectPtr& p) { podDeleted(p); }});
}

DeploymentController::~DeploymentController() {
  stop();
}

void DeploymentController::start() {
  worker_.start(workers_);
}

void DeploymentController::stop() {
  worker_.stop();
  recorder_.flush();
}

void DeploymentController::enqueueOwnerOf(const json& rs) {
  auto ref = kubeapi::controllerOf(rs);
  if (!ref || ref->kind != kDeploymentKind.kind) return;
  auto d = deployments_.cache().get(kubeapi::namespaceOf(rs), ref->name);
  if (d && kubeapi::uidOf(*d) == ref->uid) worker_.addObject(d);
}

void DeploymentController::enqueueMatchingDeployments(const json& rs) {
  for (const auto& d : deployments_.cache().inNamespace(kubeapi::namespaceOf(rs))) {
    auto selector = kubeapi::LabelSelector::fromLabelSelector(jsonField(specOf(*d), "selector"));
    if (selector && !selector->empty() && selector->matches(kubeapi::labelsJsonOf(rs)))
      worker_.addObject(d);
  }
}

void DeploymentController::replicaSetUpdated(const ObjectPtr& oldRs, const ObjectPtr& newRs) {
  if (kubeapi::resourceVersionOf(*oldRs) == kubeapi::resourceVersionOf(*newRs)) return;
  auto oldRef = kubeapi::controllerOf(*oldRs);
  auto newRef = kubeapi::controllerOf(*newRs);
  if (oldRef && oldRef != newRef) enqueueOwnerOf(*oldRs);
  if (newRef) return enqueueOwnerOf(*newRs);
  if (oldRef || kubeapi::labelsOf(*oldRs) != kubeapi::labelsOf(*newRs))
    enqueueMatchingDeployments(*newRs);
}

void DeploymentController::podDeleted(const ObjectPtr& pod) {
  // Recreate waits for the old pods to be gone before it creates new ones.
  auto ref = kubeapi::controllerOf(*pod);
  if (!ref || ref->kind != "ReplicaSet") return;
  auto rs = replicaSets_.cache().get(kubeapi::namespaceOf(*pod), ref->name);
  if (!rs) return;
  auto dRef = kubeapi::controllerOf(*rs);
  if (!dRef || dRef->kind != kDeploymentKind.kind) return;
  auto d = deployments_.cache().get(kubeapi::namespaceOf(*rs), dRef->name);
  if (d && !isRollingUpdate(*d)) worker_.addObject(d);
}

Status DeploymentController::sync(const std::string& key) {
  auto [ns, name] = QueueWorker::splitKey(key);
  ObjectPtr cached = deployments_.cache().get(ns, name);
  if (!cached) return {};
  json d = *cached;
  auto selector = kubeapi::LabelSelector::fromLabelSelector(jsonField(specOf(d), "selector"));
  if (!selector) return std::unexpected(selector.error());
  if (selector->empty()) {
    recorder_.event(kubeapi::objectReference(d), "Warning", "SelectingAll",
                    "This deployment is selecting all pods. A non-empty selector is required.");
    if (intField(statusOf(d), "observedGeneration") < kubeapi::generationOf(d)) {
      json status = statusOf(d).is_object() ? statusOf(d) : json::object();
      status["observedGeneration"] = kubeapi::generationOf(d);
      return writeStatus(d, status);
    }
    return {};
  }
  auto rsList = BERTH_TRY(claimReplicaSets(d));
  if (kubeapi::deletionTimestampOf(d)) {
    Sets sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, false));
    return syncDeploymentStatus(d, sets);
  }
  BERTH_TRY(checkPausedConditions(d));
  if (jsonBool(specOf(d), "paused")) return syncScaleOnly(d, rsList);
  if (BERTH_TRY(isScalingEvent(d, rsList))) return syncScaleOnly(d, rsList);
  if (isRollingUpdate(d)) return rolloutRolling(d, rsList);
  return rolloutRecreate(d, rsList);
}

Result<std::vector<json>> DeploymentController::claimReplicaSets(const json& d) {
  auto selector =
      BERTH_TRY(kubeapi::LabelSelector::fromLabelSelector(jsonField(specOf(d), "selector")));
  auto candidates = replicaSets_.cache().inNamespace(kubeapi::namespaceOf(d));
  auto canAdopt = [&]() -> Status {
    auto fresh = deploymentClient_.inNamespace(kubeapi::namespaceOf(d)).get(kubeapi::nameOf(d));
    if (!fresh) return std::unexpected(apiError(fresh.error()));
    if (kubeapi::uidOf(*fresh) != kubeapi::uidOf(d))
      return fail(Code::kAborted, "original Deployment {} is gone: got uid {}, wanted {}",
                  kubeapi::objectKey(d), kubeapi::uidOf(*fresh), kubeapi::uidOf(d));
    if (kubeapi::deletionTimestampOf(*fresh))
      return fail(Code::kAborted, "Deployment {} has just been deleted", kubeapi::objectKey(d));
    return {};
  };
  auto claimed =
      BERTH_TRY(claimObjects(d, kDeploymentKind, selector, candidates, rsClient_, canAdopt));
  std::vector<json> rsList;
  for (const auto& rs : claimed)
    rsList.push_back(*rs);
  return rsList;
}

Result<DeploymentController::Sets> DeploymentController::allReplicaSetsAndSyncRevision(
    json& d, const std::vector<json>& rsList, bool createIfMissing) {
  // FindNewReplicaSet: the oldest set whose template is the Deployment's; the rest are old.
  std::vector<json> sorted = rsList;
  sortByCreation(sorted);
  Sets sets;
  std::optional<size_t> newIndex;
  for (size_t i = 0; i < sorted.size(); ++i)
    if (!newIndex && equalIgnoreHash(templateOf(sorted[i]), templateOf(d))) newIndex = i;
  for (size_t i = 0; i < sorted.size(); ++i)
    if (i != newIndex) sets.oldRSs.push_back(sorted[i]);
  sets.newRS = BERTH_TRY(newReplicaSet(d, sorted, sets.oldRSs, createIfMissing));
  return sets;
}

Result<std::optional<json>> DeploymentController::newReplicaSet(json& d,
                                                                const std::vector<json>& rsList,
                                                                const std::vector<json>& oldRSs,
                                                                bool createIfMissing) {
  std::string ns(kubeapi::namespaceOf(d));
  auto rsClient = rsClient_.inNamespace(ns);
  auto dClient = deploymentClient_.inNamespace(ns);
  std::string newRevision = std::to_string(maxRevision(oldRSs) + 1);
  kubeapi::Time now = kubeapi::now();
  // The Deployment's revision annotation is metadata: a status write would drop it.
  auto syncDeploymentRevision = [&](const std::string& revision) -> Status {
    if (kubeapi::annotationOf(d, kRevisionAnnotation) == std::optional<std::string_view>(revision))
      return {};
    json copy = d;
    kubeapi::setAnnotation(copy, kRevisionAnnotation, revision);
    auto written = dClient.update(copy);
    if (!written) return std::unexpected(apiError(written.error()));
    d = std::move(*written);
    return {};
  };

  for (const json& rs : rsList) {
    if (!equalIgnoreHash(templateOf(rs), templateOf(d))) continue;
    json copy = rs;
    bool annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
    if (annotationsChanged || minReadySeconds(copy) != minReadySeconds(d)) {
      copy["spec"]["minReadySeconds"] = minReadySeconds(d);
      auto written = rsClient.update(copy);
      if (!written) return std::unexpected(apiError(written.error()));
      return std::optional<json>(std::move(*written));
    }
    BERTH_TRY(syncDeploymentRevision(
        std::string(kubeapi::annotationOf(copy, kRevisionAnnotation).value_or(""))));
    if (hasProgressDeadline(d) && !getCondition(statusOf(d), "Progressing")) {
      json status = statusOf(d);
      setCondition(
          status,
          newCondition("Progressing", "True", kFoundNewRSReason,
                       fmt::format("Found new replica set \"{}\"", kubeapi::nameOf(copy)), now));
      BERTH_TRY(writeStatus(d, status));
    }
    return std::optional<json>(std::move(copy));
  }
  if (!createIfMissing) return std::optional<json>();

  std::optional<std::int32_t> collisions;
  if (const json& c = jsonField(statusOf(d), "collisionCount"); c.is_number_integer())
    collisions = c.get<std::int32_t>();
  std::string hash = computeHash(templateOf(d), collisions);
  json tmpl = templateOf(d);
  kubeapi::setLabel(tmpl, kPodTemplateHashLabel, hash);
  json selector = jsonField(specOf(d), "selector");
  selector["matchLabels"][std::string(kPodTemplateHashLabel)] = hash;
  json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata", json::object()},
             {"spec",
              {{"replicas", 0},
               {"minReadySeconds", minReadySeconds(d)},
               {"selector", selector},
               {"template", tmpl}}}};
  kubeapi::setName(rs, fmt::format("{}-{}", kubeapi::nameOf(d), hash));
  kubeapi::setNamespace(rs, ns);
  kubeapi::setOwnerReferences(rs, {newControllerRef(d, kDeploymentKind)});
  rs["metadata"]["labels"] = jsonField(tmpl, "metadata")["labels"];
  std::vector<json> all = oldRSs;
  all.push_back(rs);
  std::int32_t replicas = BERTH_TRY(newRSNewReplicas(d, all, rs));
  rs["spec"]["replicas"] = replicas;
  setNewReplicaSetAnnotations(d, rs, newRevision, false);

  auto created = rsClient.create(rs);
  bool alreadyExists = false;
  json createdRS;
  if (created) {
    createdRS = std::move(*created);
  } else if (created.error().isAlreadyExists()) {
    // Ours from an earlier sync the cache has not shown yet, or a hash collision.
    auto existing = rsClient.get(kubeapi::nameOf(rs));
    if (!existing) return std::unexpected(apiError(existing.error()));
    auto ref = kubeapi::controllerOf(*existing);
    if (!ref || ref->uid != kubeapi::uidOf(d) ||
        !equalIgnoreHash(templateOf(*existing), templateOf(d))) {
      json status = statusOf(d);
      status["collisionCount"] = collisions.value_or(0) + 1;
      BERTH_TRY(writeStatus(d, status));
      return std::unexpected(apiError(created.error()));
    }
    alreadyExists = true;
    createdRS = std::move(*existing);
  } else {
    std::string msg = fmt::format("Failed to create new replica set \"{}\": {}",
                                  kubeapi::nameOf(rs), created.error().message());
    if (hasProgressDeadline(d)) {
      json status = statusOf(d);
      setCondition(status, newCondition("Progressing", "False", kFailedRSCreateReason, msg, now));
      (void)writeStatus(d, status);
    }
    recorder_.event(kubeapi::objectReference(d), "Warning", kFailedRSCreateReason, msg);
    return std::unexpected(apiError(created.error()));
  }
  if (!alreadyExists && replicas > 0)
    recorder_.event(
        kubeapi::objectReference(d), "Normal", "ScalingReplicaSet",
        fmt::format("Scaled up replica set {} from 0 to {}", kubeapi::nameOf(createdRS), replicas));
  BERTH_TRY(syncDeploymentRevision(newRevision));
  if (!alreadyExists && hasProgressDeadline(d)) {
    json status = statusOf(d);
    setCondition(status, newCondition("Progressing", "True", kNewReplicaSetReason,
                                      fmt::format("Created new replica set \"{}\"",
                                                  kubeapi::nameOf(createdRS)),
                                      now));
    BERTH_TRY(writeStatus(d, status));
  }
  return std::optional<json>(std::move(createdRS));
}

Result<bool> DeploymentController::isScalingEvent(json& d, const std::vector<json>& rsList) {
  Sets sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, false));
  for (const json& rs : activeReplicaSets(sets.all())) {
    auto desired = desiredReplicasAnnotation(rs);
    if (desired && *desired != specReplicas(d)) return true;
  }
  return false;
}

Status DeploymentController::syncScaleOnly(json& d, const std::vector<json>& rsList) {
  Sets sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, false));
  BERTH_TRY(scale(d, sets));
  BERTH_TRY(cleanupDeployment(d, sets.oldRSs));
  return syncDeploymentStatus(d, sets);
}

Status DeploymentController::scale(const json& d, Sets& sets) {
  // One active set (or none: the newest) takes the whole change.
  std::vector<json*> active;
  for (json& rs : sets.oldRSs)
    if (specReplicas(rs) > 0) active.push_back(&rs);
  if (sets.newRS && specReplicas(*sets.newRS) > 0) active.push_back(&*sets.newRS);
  json* target = nullptr;
  if (active.size() == 1) {
    target = active[0];
  } else if (active.empty() && sets.newRS) {
    target = &*sets.newRS;
  } else if (active.empty() && !sets.oldRSs.empty()) {
    target = &*std::max_element(
        sets.oldRSs.begin(), sets.oldRSs.end(), [](const json& a, const json& b) {
          return kubeapi::creationTimestampOf(a) < kubeapi::creationTimestampOf(b);
        });
  }
  if (target) {
    if (specReplicas(*target) == specReplicas(d)) return {};
    BERTH_TRY(scaleReplicaSet(*target, specReplicas(d), d));
    return {};
  }
  if (sets.newRS && isSaturated(d, &*sets.newRS)) {
    for (json& rs : sets.oldRSs)
      if (specReplicas(rs) > 0) BERTH_TRY(scaleReplicaSet(rs, 0, d));
    return {};
  }
  if (!isRollingUpdate(d)) return {};
  // Several active sets during a rollout: spread the change in proportion to their sizes.
  std::vector<json> ordered;
  for (json* rs : active)
    ordered.push_back(*rs);
  std::int32_t allowed = specReplicas(d) > 0 ? specReplicas(d) + maxSurge(d) : 0;
  std::int32_t toAdd = allowed - replicaCount(ordered);
  if (toAdd != 0) sortBySize(ordered, toAdd > 0);
  std::int32_t added = 0;
  std::vector<std::int32_t> sizes;
  for (const json& rs : ordered) {
    std::int32_t share = toAdd != 0 ? proportion(rs, d, toAdd, added) : 0;
    sizes.push_back(specReplicas(rs) + share);
    added += share;
  }
  for (size_t i = 0; i < ordered.size(); ++i) {
    // The leftover goes to the largest set.
    if (i == 0 && toAdd != 0) sizes[0] = std::max(0, sizes[0] + toAdd - added);
    for (json* rs : active) {
      if (kubeapi::uidOf(*rs) != kubeapi::uidOf(ordered[i])) continue;
      BERTH_TRY(scaleReplicaSet(*rs, sizes[i], d));
    }
  }
  return {};
}

Result<bool> DeploymentController::scaleReplicaSet(json& rs, std::int32_t newScale, const json& d) {
  std::int32_t oldScale = specReplicas(rs);
  bool sizeChanged = oldScale != newScale;
  std::int32_t desired = specReplicas(d), max = specReplicas(d) + maxSurge(d);
  if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, desired, max)) return false;
  json copy = rs;
  copy["spec"]["replicas"] = newScale;
  setReplicasAnnotations(copy, desired, max);
  auto written = rsClient_.inNamespace(kubeapi::namespaceOf(rs)).update(copy);
  if (!written) return std::unexpected(apiError(written.error()));
  rs = std::move(*written);
  if (sizeChanged)
    recorder_.event(
        kubeapi::objectReference(d), "Normal", "ScalingReplicaSet",
        fmt::format("Scaled {} replica set {} from {} to {}", oldScale < newScale ? "up" : "down",
                    kubeapi::nameOf(rs), oldScale, newScale));
  return sizeChanged;
}

Status DeploymentController::rolloutRolling(json& d, const std::vector<json>& rsList) {
  Sets sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, true));
  json& newRS = *sets.newRS;
  // reconcileNewReplicaSet
  bool scaledUp = false;
  if (specReplicas(newRS) > specReplicas(d)) {
    scaledUp = BERTH_TRY(scaleReplicaSet(newRS, specReplicas(d), d));
  } else if (specReplicas(newRS) < specReplicas(d)) {
    std::int32_t target = BERTH_TRY(newRSNewReplicas(d, sets.all(), newRS));
    scaledUp = BERTH_TRY(scaleReplicaSet(newRS, target, d));
  }
  if (scaledUp) return syncRolloutStatus(d, sets);
  if (BERTH_TRY(reconcileOldReplicaSets(d, sets))) return syncRolloutStatus(d, sets);
  if (deploymentComplete(d, statusOf(d))) BERTH_TRY(cleanupDeployment(d, sets.oldRSs));
  return syncRolloutStatus(d, sets);
}

Result<bool> DeploymentController::reconcileOldReplicaSets(const json& d, Sets& sets) {
  std::vector<json*> oldRSs;  // the active ones
  for (json& rs : sets.oldRSs)
    if (specReplicas(rs) > 0) oldRSs.push_back(&rs);
  if (oldRSs.empty()) return false;
  const json& newRS = *sets.newRS;
  std::int32_t minAvailable = specReplicas(d) - maxUnavailable(d);
  std::int32_t newUnavailable = specReplicas(newRS) - statusInt(newRS, "availableReplicas");
  std::int32_t maxScaledDown = replicaCount(sets.all()) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy old pods first: they don't count towards availability anyway.
  int cleaned = BERTH_TRY(cleanupUnhealthyReplicas(d, oldRSs, maxScaledDown));
  int scaledDown = BERTH_TRY(scaleDownOldForRollingUpdate(d, sets, oldRSs));
  return cleaned + scaledDown > 0;
}

Result<int> DeploymentController::cleanupUnhealthyReplicas(const json& d,
                                                           std::vector<json*>& oldRSs,
                                                           int maxCleanup) {
  std::stable_sort(oldRSs.begin(), oldRSs.end(),
                   [](const json* a, const json* b) { return createdBefore(*a, *b); });
  int total = 0;
  for (json* rs : oldRSs) {
    if (total >= maxCleanup) break;
    std::int32_t replicas = specReplicas(*rs);
    std::int32_t available = statusInt(*rs, "availableReplicas");
    // A set just scaled down still reports more available pods than it keeps: none unhealthy
    // (upstream's replicas == available, which would scale such a set up).
    if (replicas == 0 || available >= replicas) continue;
    std::int32_t count = std::min(maxCleanup - total, replicas - available);
    BERTH_TRY(scaleReplicaSet(*rs, replicas - count, d));
    total += count;
  }
  return total;
}

Result<int> DeploymentController::scaleDownOldForRollingUpdate(const json& d, Sets& sets,
                                                               std::vector<json*>& oldRSs) {
  std::int32_t minAvailable = specReplicas(d) - maxUnavailable(d);
  // A set's availability counts up to its size only: a set just scaled down still reports the
  // pods it is about to delete (upstream reads status alone, and can overshoot then).
  std::int32_t available = 0;
  for (const json& rs : activeReplicaSets(sets.all()))
    available += std::min(statusInt(rs, "availableReplicas"), specReplicas(rs));
  if (available <= minAvailable) return 0;
  std::int32_t totalScaleDown = available - minAvailable;
  int total = 0;
  for (json* rs : oldRSs) {  // oldest first (cleanupUnhealthyReplicas sorted them)
    if (total >= totalScaleDown) break;
    std::int32_t replicas = specReplicas(*rs);
    if (replicas == 0) continue;
    std::int32_t count = std::min(replicas, totalScaleDown - total);
    BERTH_TRY(scaleReplicaSet(*rs, replicas - count, d));
    total += count;
  }
  return total;
}

Status DeploymentController::rolloutRecreate(json& d, const std::vector<json>& rsList) {
  Sets sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, false));
  bool scaledDown = false;
  for (json& rs : sets.oldRSs)
    if (specReplicas(rs) > 0 && BERTH_TRY(scaleReplicaSet(rs, 0, d))) scaledDown = true;
  if (scaledDown) return syncRolloutStatus(d, sets);
  // The new pods start only once every old one is gone.
  if (oldPodsRunning(d, sets, rsList)) return syncRolloutStatus(d, sets);
  if (!sets.newRS) sets = BERTH_TRY(allReplicaSetsAndSyncRevision(d, rsList, true));
  if (specReplicas(*sets.newRS) != specReplicas(d))
    BERTH_TRY(scaleReplicaSet(*sets.newRS, specReplicas(d), d));
  if (deploymentComplete(d, statusOf(d))) BERTH_TRY(cleanupDeployment(d, sets.oldRSs));
  return syncRolloutStatus(d, sets);
}

bool DeploymentController::oldPodsRunning(const json& d, const Sets& sets,
                                          const std::vector<json>& rsList) const {
  if (actualReplicaCount(sets.oldRSs) > 0) return true;
  std::string newUid = sets.newRS ? std::string(kubeapi::uidOf(*sets.newRS)) : "";
  for (const auto& pod : pods_.cache().inNamespace(kubeapi::namespaceOf(d))) {
    auto ref = kubeapi::controllerOf(*pod);
    if (!ref || ref->uid == newUid) continue;
    bool ours =
        std::ranges::any_of(rsList, [&](const json& rs) { return kubeapi::uidOf(rs) == ref->uid; });
    if (!ours) continue;
    std::string phase = jsonString(statusOf(*pod), "phase");
    if (phase != "Failed" && phase != "Succeeded") return true;
  }
  return false;
}

Status DeploymentController::cleanupDeployment(const json& d, const std::vector<json>& oldRSs) {
  const json& limit = jsonField(specOf(d), "revisionHistoryLimit");
  if (!limit.is_number_integer() || limit.get<std::int64_t>() == INT32_MAX) return {};
  std::vector<json> cleanable;
  for (const json& rs : oldRSs)
    if (!kubeapi::deletionTimestampOf(rs)) cleanable.push_back(rs);
  std::int64_t diff = static_cast<std::int64_t>(cleanable.size()) - limit.get<std::int64_t>();
  if (diff <= 0) return {};
  sortByRevision(cleanable);
  auto client = rsClient_.inNamespace(kubeapi::namespaceOf(d));
  for (std::int64_t i = 0; i < diff; ++i) {
    const json& rs = cleanable[i];
    // Only sets with nothing left, whose controller has seen their last change.
    if (statusInt(rs, "replicas") != 0 || specReplicas(rs) != 0 ||
        kubeapi::generationOf(rs) > intField(statusOf(rs), "observedGeneration"))
      continue;
    auto removed = client.remove(kubeapi::nameOf(rs));
    if (!removed && !removed.error().isNotFound())
      return std::unexpected(apiError(removed.error()));
  }
  return {};
}

Status DeploymentController::checkPausedConditions(json& d) {
  if (!hasProgressDeadline(d)) return {};
  const json* cond = getCondition(statusOf(d), "Progressing");
  if (cond && jsonString(*cond, "reason") == kTimedOutReason) return {};
  bool pausedCond = cond && jsonString(*cond, "reason") == kPausedDeployReason;
  bool paused = jsonBool(specOf(d), "paused");
  json status = statusOf(d).is_object() ? statusOf(d) : json::object();
  if (paused && !pausedCond) {
    setCondition(status, newCondition("Progressing", "Unknown", kPausedDeployReason,
                                      "Deployment is paused", kubeapi::now()));
  } else if (!paused && pausedCond) {
    setCondition(status, newCondition("Progressing", "Unknown", kResumedDeployReason,
                                      "Deployment is resumed", kubeapi::now()));
  } else {
    return {};
  }
  return writeStatus(d, status);
}

Status DeploymentController::syncDeploymentStatus(json& d, const Sets& sets) {
  json status = calculateStatus(sets.all(), sets.newRS ? &*sets.newRS : nullptr, d, kubeapi::now());
  if (normalized(status) == normalized(statusOf(d))) return {};
  return writeStatus(d, std::move(status));
}

Status DeploymentController::syncRolloutStatus(json& d, const Sets& sets) {
  kubeapi::Time now = kubeapi::now();
  const json* newRS = sets.newRS ? &*sets.newRS : nullptr;
  std::vector<json> all = sets.all();
  json status = calculateStatus(all, newRS, d, now);
  if (!hasProgressDeadline(d)) removeCondition(status, "Progressing");
  const json* current = getCondition(statusOf(d), "Progressing");
  bool complete = intField(status, "replicas") == intField(status, "updatedReplicas") && current &&
                  jsonString(*current, "reason") == kNewRSAvailableReason;
  std::string rsName = newRS ? std::string(kubeapi::nameOf(*newRS)) : "";
  if (hasProgressDeadline(d) && !complete) {
    if (deploymentComplete(d, status)) {
      std::string msg = newRS
                            ? fmt::format("ReplicaSet \"{}\" has successfully progressed.", rsName)
                            : "Deployment has successfully progressed.";
      setCondition(status, newCondition("Progressing", "True", kNewRSAvailableReason, msg, now));
    } else if (deploymentProgressing(d, status)) {
      std::string msg = newRS ? fmt::format("ReplicaSet \"{}\" is progressing.", rsName)
                              : "Deployment is progressing.";
      json cond = newCondition("Progressing", "True", kReplicaSetUpdatedReason, msg, now);
      // Progress moves lastUpdateTime (the deadline's start), not lastTransitionTime.
      if (current) {
        if (jsonString(*current, "status") == "True")
          cond["lastTransitionTime"] = (*current)["lastTransitionTime"];
        removeCondition(status, "Progressing");
      }
      setCondition(status, std::move(cond));
    } else if (deploymentTimedOut(d, status, now)) {
      std::string msg =
          newRS ? fmt::format("ReplicaSet \"{}\" has timed out progressing.", rsName)
                : fmt::format("Deployment \"{}\" has timed out progressing.", kubeapi::nameOf(d));
      setCondition(status, newCondition("Progressing", "False", kTimedOutReason, msg, now));
    }
  }
  // The sets' ReplicaFailure (the new set's first) shows on the Deployment.
  std::optional<json> failure;
  std::vector<const json*> order;
  if (newRS) order.push_back(newRS);
  for (const json& rs : all)
    order.push_back(&rs);
  for (const json* rs : order) {
    if (failure) break;
    if (const json* c = getCondition(statusOf(*rs), "ReplicaFailure"))
      failure = json{{"type", "ReplicaFailure"},
                     {"status", (*c)["status"]},
                     {"lastUpdateTime", (*c)["lastTransitionTime"]},
                     {"lastTransitionTime", (*c)["lastTransitionTime"]},
                     {"reason", (*c)["reason"]},
                     {"message", (*c)["message"]}};
  }
  if (failure) {
    setCondition(status, *failure);
  } else {
    removeCondition(status, "ReplicaFailure");
  }
  if (normalized(status) == normalized(statusOf(d))) {
    requeueStuckDeployment(d, status);
    return {};
  }
  return writeStatus(d, std::move(status));
}

void DeploymentController::requeueStuckDeployment(const json& d, const json& newStatus) {
  const json* cond = getCondition(newStatus, "Progressing");
  if (!hasProgressDeadline(d) || !cond) return;
  if (deploymentComplete(d, newStatus) || jsonString(*cond, "reason") == kTimedOutReason) return;
  auto updated = kubeapi::timeFromJson(jsonField(*cond, "lastUpdateTime"));
  if (!updated || !*updated) return;
  auto deadline = **updated + std::chrono::seconds(intField(specOf(d), "progressDeadlineSeconds"));
  auto after = deadline - kubeapi::now();
  worker_.addAfter(
      kubeapi::objectKey(d),
      std::max<std::chrono::nanoseconds>(after, std::chrono::seconds(0)) + std::chrono::seconds(1));
}

Status DeploymentController::writeStatus(json& d, json status) {
  json copy = d;
  copy["status"] = std::move(status);
  auto written = deploymentClient_.inNamespace(kubeapi::namespaceOf(d)).updateStatus(copy);
  if (!written) return std::unexpected(apiError(written.error()));
  d = std::move(*written);
  return {};
}

}  // namespace berth::controlplane::controllers
