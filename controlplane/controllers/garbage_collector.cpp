#include "controlplane/controllers/garbage_collector.h"

#include <algorithm>
#include <charconv>

#include "controlplane/controllers/controller_log.h"
#include "kubeapi/informer_factory.h"

namespace berth::controlplane::controllers {

using kubeapi::ObjectPtr;
using nlohmann::json;

namespace {

constexpr const char* kUidIndex = "gc-uid";
constexpr const char* kOwnerUidIndex = "gc-owner-uid";
constexpr const char* kOrphan = "orphan";
constexpr const char* kForeground = "foregroundDeletion";
constexpr size_t kMaxAbsentOwners = 500;

bool beingDeleted(const json& obj) {
  return kubeapi::deletionTimestampOf(obj).has_value();
}

std::string describe(const json& obj) {
  return fmt::format("{} {}", kubeapi::kindOf(obj), kubeapi::objectKey(obj));
}

}  // namespace

GarbageCollector::GarbageCollector(ControllerContext& context)
    : context_(context),
      worker_("garbagecollector", [this](const std::string& key) { return sync(key); }) {
  // The resources whose objects have owners in practice, and the kinds that own them.
  resources_ = {
      {{"", "v1", "pods"}, "Pod"},
      {{"", "v1", "configmaps"}, "ConfigMap"},
      {{"", "v1", "secrets"}, "Secret"},
      {{"", "v1", "services"}, "Service"},
      {{"", "v1", "persistentvolumeclaims"}, "PersistentVolumeClaim"},
      {{"", "v1", "nodes"}, "Node", false},
      {{"apps", "v1", "deployments"}, "Deployment"},
      {{"apps", "v1", "replicasets"}, "ReplicaSet"},
      {{"apps", "v1", "daemonsets"}, "DaemonSet"},
      {{"apps", "v1", "statefulsets"}, "StatefulSet"},
      {{"apps", "v1", "controllerrevisions"}, "ControllerRevision"},
      {{"batch", "v1", "jobs"}, "Job"},
      {{"batch", "v1", "cronjobs"}, "CronJob"},
      {{"discovery.k8s.io", "v1", "endpointslices"}, "EndpointSlice"},
      {{"coordination.k8s.io", "v1", "leases"}, "Lease"},
  };
  for (size_t i = 0; i < resources_.size(); ++i) {
    auto& informer = context.informers.informer(resources_[i].gvr, resources_[i].namespaced);
    resources_[i].informer = &informer;
    informer.addIndex(kUidIndex, [](const json& obj) {
      return std::vector<std::string>{std::string(kubeapi::uidOf(obj))};
    });
    informer.addIndex(kOwnerUidIndex, [](const json& obj) {
      std::vector<std::string> uids;
      for (const auto& ref : kubeapi::ownerReferencesOf(obj))
        uids.push_back(ref.uid);
      return uids;
    });
    informer.addEventHandler({
        .onAdd = [this, i](const ObjectPtr& o) { onEvent(i, nullptr, o, false); },
        .onUpdate = [this, i](const ObjectPtr& old,
                              const ObjectPtr& o) { onEvent(i, old, o, false); },
        .onDelete = [this, i](const ObjectPtr& o) { onEvent(i, nullptr, o, true); },
    });
  }
}

void GarbageCollector::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void GarbageCollector::enqueue(size_t resource, const json& obj) {
  worker_.add(fmt::format("{}|{}", resource, kubeapi::objectKey(obj)));
}

namespace {

// What the collector acts on: an object's owners, its deletion and its finalizers (the changes
// upstream's processGraphChanges reacts to; a Lease renewal is none of them).
bool relevantChange(const json& oldObj, const json& obj) {
  return kubeapi::ownerReferencesOf(oldObj) != kubeapi::ownerReferencesOf(obj) ||
         beingDeleted(oldObj) != beingDeleted(obj) ||
         kubeapi::finalizersOf(oldObj) != kubeapi::finalizersOf(obj);
}

}  // namespace

// A change may concern the object itself (a dependent, an owner being deleted), its dependents
// (their owner went) and its owners (waiting for their dependents to go).
void GarbageCollector::onEvent(size_t resource, const ObjectPtr& oldObj, const ObjectPtr& obj,
                               bool deleted) {
  if (oldObj && !relevantChange(*oldObj, *obj)) return;
  if (deleted) {
    for (const auto& d : dependentsOf(kubeapi::uidOf(*obj)))
      enqueue(d.resource, *d.object);
  } else if (!kubeapi::ownerReferencesOf(*obj).empty() || kubeapi::hasFinalizer(*obj, kOrphan) ||
             kubeapi::hasFinalizer(*obj, kForeground)) {
    enqueue(resource, *obj);
  }
  auto refs = kubeapi::ownerReferencesOf(*obj);
  if (oldObj) std::ranges::move(kubeapi::ownerReferencesOf(*oldObj), std::back_inserter(refs));
  for (const auto& ref : refs)
    for (size_t i = 0; i < resources_.size(); ++i)
      for (const auto& owner : resources_[i].informer->cache().byIndex(kUidIndex, ref.uid))
        if (beingDeleted(*owner)) enqueue(i, *owner);
}

std::vector<GarbageCollector::Dependent> GarbageCollector::dependentsOf(
    std::string_view uid) const {
  std::vector<Dependent> out;
  for (size_t i = 0; i < resources_.size(); ++i)
    for (auto& obj : resources_[i].informer->cache().byIndex(kOwnerUidIndex, uid))
      out.push_back({i, std::move(obj)});
  return out;
}

const GarbageCollector::Resource* GarbageCollector::resourceOfKind(const std::string& apiVersion,
                                                                   const std::string& kind) const {
  std::string group = kubeapi::GroupVersion::parse(apiVersion).group;
  for (const auto& r : resources_)
    if (r.kind == kind && r.gvr.group == group) return &r;
  return nullptr;
}

kubeapi::ResourceClient GarbageCollector::clientFor(const Resource& r, std::string_view ns) const {
  kubeapi::ResourceClient client(context_.client, r.gvr, r.namespaced);
  return r.namespaced ? client.inNamespace(ns) : client;
}

Status GarbageCollector::sync(const std::string& key) {
  auto bar = key.find('|');
  size_t index = 0;
  std::from_chars(key.data(), key.data() + bar, index);
  const Resource& r = resources_.at(index);
  ObjectPtr obj = r.informer->cache().get(std::string_view(key).substr(bar + 1));
  if (!obj) return {};
  if (beingDeleted(*obj)) {
    // attemptToOrphan, then processDeletingDependentsItem.
    if (kubeapi::hasFinalizer(*obj, kOrphan)) return orphanDependents(r, *obj);
    if (kubeapi::hasFinalizer(*obj, kForeground)) return deleteDependents(r, *obj);
    return {};
  }
  return syncDependent(r, *obj);
}

Result<GarbageCollector::OwnerState> GarbageCollector::ownerState(
    const json& dependent, const kubeapi::OwnerReference& ref) {
  const Resource* r = resourceOfKind(ref.apiVersion, ref.kind);
  if (!r) return OwnerState::kSolid;  // not ours to judge
  {
    std::lock_guard lock(absentMu_);
    if (absentOwners_.contains(ref.uid)) return OwnerState::kDangling;
  }
  auto owner = clientFor(*r, kubeapi::namespaceOf(dependent)).get(ref.name);
  if (!owner && !owner.error().isNotFound())
    return std::unexpected(owner.error().toError().context("owner of " + describe(dependent)));
  if (!owner || kubeapi::uidOf(*owner) != ref.uid) {
    std::lock_guard lock(absentMu_);
    if (absentOwners_.size() >= kMaxAbsentOwners) absentOwners_.clear();
    absentOwners_.insert(ref.uid);
    return OwnerState::kDangling;
  }
  if (beingDeleted(*owner) && kubeapi::hasFinalizer(*owner, kForeground))
    return OwnerState::kWaitingForDependents;
  return OwnerState::kSolid;
}

// attemptToDeleteItem for an object not being deleted.
Status GarbageCollector::syncDependent(const Resource& r, const json& obj) {
  auto refs = kubeapi::ownerReferencesOf(obj);
  if (refs.empty()) return {};
  bool solid = false;
  bool waiting = false;
  std::vector<std::string> gone;  // dangling and waiting owners' uids
  for (const auto& ref : refs) {
    OwnerState state = BERTH_TRY(ownerState(obj, ref));
    solid |= state == OwnerState::kSolid;
    waiting |= state == OwnerState::kWaitingForDependents;
    if (state != OwnerState::kSolid) gone.push_back(ref.uid);
  }
  if (solid) return gone.empty() ? Status{} : removeOwnerReferences(r, obj, gone);
  if (waiting && !dependentsOf(kubeapi::uidOf(obj)).empty())
    return deleteObject(r, obj, "Foreground");
  if (kubeapi::hasFinalizer(obj, kOrphan)) return deleteObject(r, obj, "Orphan");
  if (kubeapi::hasFinalizer(obj, kForeground)) return deleteObject(r, obj, "Foreground");
  return deleteObject(r, obj, "Background");
}

Status GarbageCollector::orphanDependents(const Resource& r, const json& owner) {
  std::string uid(kubeapi::uidOf(owner));
  for (const auto& d : dependentsOf(uid))
    if (auto s = removeOwnerReferences(resources_[d.resource], *d.object, {uid}); !s) return s;
  return removeFinalizer(r, owner, kOrphan);
}

Status GarbageCollector::deleteDependents(const Resource& r, const json& owner) {
  std::string uid(kubeapi::uidOf(owner));
  bool blocked = false;
  for (const auto& d : dependentsOf(uid)) {
    for (const auto& ref : kubeapi::ownerReferencesOf(*d.object))
      blocked |= ref.uid == uid && ref.blockOwnerDeletion.value_or(false);
    if (!beingDeleted(*d.object)) enqueue(d.resource, *d.object);
  }
  if (blocked) return {};  // requeued when a dependent changes
  return removeFinalizer(r, owner, kForeground);
}

Status GarbageCollector::removeOwnerReferences(const Resource& r, const json& obj,
                                               const std::vector<std::string>& uids) {
  json updated = obj;
  auto refs = kubeapi::ownerReferencesOf(obj);
  std::erase_if(refs,
                [&](const auto& ref) { return std::ranges::find(uids, ref.uid) != uids.end(); });
  kubeapi::setOwnerReferences(updated, refs);
  auto written = clientFor(r, kubeapi::namespaceOf(obj)).update(updated);
  if (!written) {
    if (written.error().isNotFound()) return {};
    return std::unexpected(written.error().toError().context(describe(obj)));
  }
  controllerLog()->info("garbagecollector: removed owner references {} from {}",
                        fmt::join(uids, ","), describe(obj));
  return {};
}

Status GarbageCollector::removeFinalizer(const Resource& r, const json& obj,
                                         std::string_view finalizer) {
  json updated = obj;
  if (!kubeapi::removeFinalizer(updated, finalizer)) return {};
  auto written = clientFor(r, kubeapi::namespaceOf(obj)).update(updated);
  if (!written && !written.error().isNotFound())
    return std::unexpected(written.error().toError().context(describe(obj)));
  return {};
}

Status GarbageCollector::deleteObject(const Resource& r, const json& obj, std::string policy) {
  kubeapi::DeleteOptions options{.propagationPolicy = std::move(policy),
                                 .preconditionUid = std::string(kubeapi::uidOf(obj))};
  auto removed = clientFor(r, kubeapi::namespaceOf(obj)).remove(kubeapi::nameOf(obj), options);
  if (!removed) {
    // Gone already, or replaced by an object of another uid: nothing left to collect.
    if (removed.error().isNotFound() || removed.error().isConflict()) return {};
    return std::unexpected(removed.error().toError().context(describe(obj)));
  }
  controllerLog()->info("garbagecollector: deleted {} (propagation {})", describe(obj),
                        options.propagationPolicy);
  return {};
}

}  // namespace berth::controlplane::controllers
