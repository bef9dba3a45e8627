#include "controlplane/apiserver/resource_store.h"

#include <fmt/format.h>

#include "controlplane/apiserver/object_meta.h"
#include "controlplane/storage/keys.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::apiserver {
namespace {

// A guaranteed update retries a lost compare-and-swap; more than this many losses in a row
// means something rewrites the object continuously.
constexpr int kMaxUpdateAttempts = 32;
constexpr int kMaxGenerateNameAttempts = 8;

Json& metadata(Json& object) {
  Json& meta = object["metadata"];
  if (!meta.is_object()) meta = Json::object();
  return meta;
}

std::string stringAt(const Json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  auto it = meta->find(field);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t int64At(const Json& object, const char* field) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return 0;
  auto it = meta->find(field);
  return it != meta->end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// What is stored: the object without its resourceVersion (the revision is the version).
std::string encode(const Json& object) {
  auto meta = object.find("metadata");
  if (meta != object.end() && meta->contains("resourceVersion")) {
    Json copy = object;
    copy["metadata"].erase("resourceVersion");
    return copy.dump();
  }
  return object.dump();
}

Json withRevision(Json object, std::int64_t revision) {
  metadata(object)["resourceVersion"] = std::to_string(revision);
  return object;
}

// Everything but metadata and status: what a spec change is made of.
bool specChanged(const Json& a, const Json& b) {
  for (const auto& [k, v] : a.items()) {
    if (k == "metadata" || k == "status") continue;
    auto it = b.find(k);
    if (it == b.end() || *it != v) return true;
  }
  for (const auto& [k, v] : b.items()) {
    if (k == "metadata" || k == "status") continue;
    if (!a.contains(k)) return true;
  }
  return false;
}

bool hasFinalizers(const Json& object) {
  auto meta = object.find("metadata");
  if (meta == object.end()) return false;
  auto f = meta->find("finalizers");
  return f != meta->end() && f->is_array() && !f->empty();
}

void addFinalizer(Json& object, const std::string& finalizer) {
  Json& list = metadata(object)["finalizers"];
  if (!list.is_array()) list = Json::array();
  for (const Json& f : list) {
    if (f == finalizer) return;
  }
  list.push_back(finalizer);
}

}  // namespace

ResourceStore::ResourceStore(schema::ServedResource served, const Strategy& strategy,
                             storage::Backend& backend, storage::WatchCache& cache, StoreEnv env)
    : served_(std::move(served)),
      strategy_(strategy),
      backend_(backend),
      cache_(cache),
      env_(std::move(env)),
      bookmarkInterval_(env_.bookmarkInterval) {}

std::string ResourceStore::keyOf(const std::string& ns, const std::string& name) const {
  return storage::objectKey(served_.group, served_.resource, served_.namespaced ? ns : "", name);
}

std::string ResourceStore::nowTimestamp() const {
  return kubeapi::formatTime(env_.now());
}

FieldSet ResourceStore::fieldsOf(const Json& object) const {
  FieldSet fields;
  fields["metadata.name"] = stringAt(object, "name");
  if (served_.namespaced) fields["metadata.namespace"] = stringAt(object, "namespace");
  strategy_.addSelectableFields(object, fields);
  return fields;
}

ApiResult<storage::ObjectPtr> ResourceStore::get(const std::string& ns,
                                                 const std::string& name) const {
  if (auto fresh = cache_.waitForFresh(kFreshTimeout); !fresh) {
    return apiFail(apiErrorFrom(fresh.error(), groupResource(), name));
  }
  auto cached = cache_.get(keyOf(ns, name));
  if (!cached) return apiFail(kubeapi::notFoundStatus(groupResource(), name));
  return cached->object;
}

ApiResult<Json> ResourceStore::readCurrent(const std::string& key,
                                           std::int64_t* modRevision) const {
  if (auto fresh = cache_.waitForFresh(kFreshTimeout); !fresh) {
    return apiFail(apiErrorFrom(fresh.error(), groupResource(), ""));
  }
  auto cached = cache_.get(key);
  if (!cached) {
    *modRevision = 0;
    return Json();
  }
  *modRevision = cached->revision;
  return cached->object->json();
}

ApiResult<Json> ResourceStore::create(const std::string& ns, Json object,
                                      const WriteOptions& options) {
  bool generated = stringAt(object, "name").empty() && !stringAt(object, "generateName").empty();
  for (int attempt = 0;; ++attempt) {
    auto created = createLocked(ns, object, options);
    // A generated name that happens to exist gets another suffix, as upstream retries.
    if (!created && generated && created.error().reason == kubeapi::reason::kAlreadyExists &&
        attempt + 1 < kMaxGenerateNameAttempts) {
      continue;
    }
    return created;
  }
}

ApiResult<Json> ResourceStore::createLocked(const std::string& ns, Json object,
                                            const WriteOptions& options) {
  Json& meta = metadata(object);
  std::string objectNs = stringAt(object, "namespace");
  if (served_.namespaced) {
    if (!objectNs.empty() && !ns.empty() && objectNs != ns) {
      return apiFail(kubeapi::badRequestStatus(
          "the namespace of the provided object does not match the namespace sent on the "
          "request"));
    }
    if (!ns.empty()) meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  if (!stringAt(object, "resourceVersion").empty()) {
    return apiFail(
        kubeapi::badRequestStatus("resourceVersion should not be set on objects to be created"));
  }
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("selfLink");
  if (stringAt(object, "name").empty() && !stringAt(object, "generateName").empty()) {
    meta["name"] = stringAt(object, "generateName") + env_.randomSuffix();
  }
  meta["uid"] = env_.newUid();
  meta["creationTimestamp"] = nowTimestamp();
  if (strategy_.tracksGeneration()) {
    meta["generation"] = 1;
  } else {
    meta.erase("generation");
  }

  if (options.hooks.mutate) {
    if (auto refused = options.hooks.mutate(object, nullptr)) return apiFail(*refused);
  }
  strategy_.prepareForCreate(object);

  std::string name = stringAt(object, "name");
  FieldErrors errors = validateObjectMeta(object, served_.namespaced, strategy_.nameRule());
  for (FieldError& e : strategy_.validate(object))
    errors.push_back(std::move(e));
  if (!errors.empty()) {
    return apiFail(kubeapi::invalidStatus({served_.group, served_.kind}, name, errors));
  }
  if (options.hooks.validate) {
    if (auto refused = options.hooks.validate(object, nullptr)) return apiFail(*refused);
  }
  if (options.dryRun) return object;

  std::string key = keyOf(stringAt(object, "namespace"), name);
  auto written = backend_.create(key, encode(object));
  if (!written) {
    if (written.error().code() == Code::kAlreadyExists) {
      return apiFail(kubeapi::alreadyExistsStatus(groupResource(), name));
    }
    return apiFail(apiErrorFrom(written.error(), groupResource(), name));
  }
  return withRevision(std::move(object), written->modRevision);
}

ApiResult<Json> ResourceStore::prepareUpdate(const std::string& ns, const std::string& name,
                                             const std::string& subresource, Json object,
                                             const Json& current,
                                             const WriteOptions& options) const {
  if (!object.is_object())
    return apiFail(kubeapi::badRequestStatus("the object is not a JSON object"));
  Json& meta = metadata(object);
  std::string objectName = stringAt(object, "name");
  if (objectName.empty()) {
    meta["name"] = name;
  } else if (objectName != name) {
    return apiFail(kubeapi::badRequestStatus(fmt::format(
        "the name of the object ({}) does not match the name on the URL ({})", objectName, name)));
  }
  if (served_.namespaced) {
    std::string objectNs = stringAt(object, "namespace");
    if (!objectNs.empty() && objectNs != ns) {
      return apiFail(kubeapi::badRequestStatus(
          "the namespace of the provided object does not match the namespace sent on the "
          "request"));
    }
    meta["namespace"] = ns;
  }
  std::string uid = stringAt(object, "uid");
  std::string currentUid = stringAt(current, "uid");
  if (!uid.empty() && uid != currentUid) {
    return apiFail(kubeapi::conflictStatus(
        groupResource(), name,
        fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                    currentUid, uid)));
  }

  if (subresource == "status" || subresource == "finalize") {
    // A status write changes the status (a namespace's /finalize its spec.finalizers) and
    // managedFields; the rest stays as stored (metav1.ResetObjectMetaForStatus and each status
    // strategy's PrepareForUpdate).
    Json updated = current;
    if (subresource == "finalize") {
      const Json& spec = object.contains("spec") ? object["spec"] : Json::object();
      if (spec.contains("finalizers")) {
        updated["spec"]["finalizers"] = spec["finalizers"];
      } else if (updated.contains("spec")) {
        updated["spec"].erase("finalizers");
      }
    } else if (object.contains("status")) {
      updated["status"] = object["status"];
    } else {
      updated.erase("status");
    }
    if (meta.contains("managedFields")) metadata(updated)["managedFields"] = meta["managedFields"];
    object = std::move(updated);
    if (subresource == "status") strategy_.prepareForStatusUpdate(object, current);
  } else {
    const Json& curMeta = current.at("metadata");
    for (const char* field : {"uid", "creationTimestamp", "deletionTimestamp",
                              "deletionGracePeriodSeconds", "generation"}) {
      if (auto it = curMeta.find(field); it != curMeta.end()) {
        meta[field] = *it;
      } else {
        meta.erase(field);
      }
    }
    meta.erase("selfLink");
    // binding and ephemeralcontainers build their object from the current one and change only
    // what they own: the type's update rules (an immutable pod spec) are not theirs.
    if (subresource.empty()) {
      if (strategy_.hasStatusSubresource()) {
        if (current.contains("status")) {
          object["status"] = current["status"];
        } else {
          object.erase("status");
        }
      }
      if (strategy_.tracksGeneration() && specChanged(object, current)) {
        meta["generation"] = int64At(current, "generation") + 1;
      }
    }
    if (options.hooks.mutate) {
      if (auto refused = options.hooks.mutate(object, &current)) return apiFail(*refused);
    }
    if (subresource.empty()) strategy_.prepareForUpdate(object, current);
  }

  FieldErrors errors =
      validateObjectMetaUpdate(object, current, served_.namespaced, strategy_.nameRule());
  FieldErrors typeErrors;
  if (subresource.empty()) {
    typeErrors = strategy_.validateUpdate(object, current);
  } else if (subresource == "status") {
    typeErrors = strategy_.validateStatusUpdate(object, current);
  }
  for (FieldError& e : typeErrors)
    errors.push_back(std::move(e));
  if (!errors.empty()) {
    return apiFail(kubeapi::invalidStatus({served_.group, served_.kind}, name, errors));
  }
  if (options.hooks.validate) {
    if (auto refused = options.hooks.validate(object, &current)) return apiFail(*refused);
  }
  return object;
}

ApiResult<Json> ResourceStore::update(const std::string& ns, const std::string& name,
                                      const std::string& subresource, const UpdateFn& updated,
                                      const WriteOptions& options) {
  std::string key = keyOf(ns, name);
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    std::int64_t modRevision = 0;
    Json current = BERTH_TRY(readCurrent(key, &modRevision));
    if (current.is_null()) {
      if ((!strategy_.allowCreateOnUpdate() && !options.createIfMissing) || !subresource.empty()) {
        return apiFail(kubeapi::notFoundStatus(groupResource(), name));
      }
      Json object = BERTH_TRY(updated(nullptr));
      metadata(object).erase("resourceVersion");
      if (stringAt(object, "name").empty()) metadata(object)["name"] = name;
      if (stringAt(object, "name") != name) {
        return apiFail(kubeapi::badRequestStatus(
            fmt::format("the name of the object ({}) does not match the name on the URL ({})",
                        stringAt(object, "name"), name)));
      }
      auto created = createLocked(ns, std::move(object), options);
      if (!created && created.error().reason == kubeapi::reason::kAlreadyExists) continue;
      return created;
    }

    Json object = BERTH_TRY(updated(&current));
    std::string version = object.is_object() ? stringAt(object, "resourceVersion") : "";
    bool conditional = !version.empty();
    if (conditional && version != std::to_string(modRevision)) {
      return apiFail(kubeapi::optimisticLockConflictStatus(groupResource(), name));
    }
    Json prepared =
        BERTH_TRY(prepareUpdate(ns, name, subresource, std::move(object), current, options));
    metadata(prepared)["resourceVersion"] = std::to_string(modRevision);

    // An object being deleted whose last finalizer went is deleted now (upstream's
    // ShouldDeleteDuringUpdate).
    Json probe = prepared;
    if (!stringAt(prepared, "deletionTimestamp").empty() && !hasFinalizers(prepared) &&
        int64At(prepared, "deletionGracePeriodSeconds") == 0 && !strategy_.deferDelete(probe)) {
      auto deleted = deleteNow(key, prepared, modRevision, options.dryRun);
      if (!deleted && deleted.error().reason == kubeapi::reason::kConflict && !conditional) {
        continue;
      }
      if (!deleted) return apiFail(deleted.error());
      return deleted->object;
    }
    if (prepared == current) return prepared;  // nothing to write, as upstream skips equal data
    if (options.dryRun) return prepared;

    auto written = backend_.update(key, encode(prepared), modRevision);
    if (!written) return apiFail(apiErrorFrom(written.error(), groupResource(), name));
    if (!written->succeeded) {
      if (conditional) return apiFail(kubeapi::optimisticLockConflictStatus(groupResource(), name));
      continue;
    }
    return withRevision(std::move(prepared), written->kv->modRevision);
  }
  return apiFail(kubeapi::optimisticLockConflictStatus(groupResource(), name));
}

ApiResult<DeleteResult> ResourceStore::deleteNow(const std::string& key, const Json& object,
                                                 std::int64_t modRevision, bool dryRun) {
  std::string name = stringAt(object, "name");
  if (dryRun) return DeleteResult{object, true};
  auto removed = backend_.remove(key, modRevision);
  if (!removed) return apiFail(apiErrorFrom(removed.error(), groupResource(), name));
  if (!removed->succeeded) {
    if (!removed->kv) return apiFail(kubeapi::notFoundStatus(groupResource(), name));
    return apiFail(kubeapi::optimisticLockConflictStatus(groupResource(), name));
  }
  return DeleteResult{withRevision(object, removed->kv->modRevision), true};
}

ApiResult<DeleteResult> ResourceStore::remove(const std::string& ns, const std::string& name,
                                              const DeleteOptions& options) {
  std::string key = keyOf(ns, name);
  bool preconditioned = options.preconditionUid || options.preconditionResourceVersion;
  for (int attempt = 0; attempt < kMaxUpdateAttempts; ++attempt) {
    std::int64_t modRevision = 0;
    Json current = BERTH_TRY(readCurrent(key, &modRevision));
    if (current.is_null()) return apiFail(kubeapi::notFoundStatus(groupResource(), name));

    std::string uid = stringAt(current, "uid");
    if (options.preconditionUid && *options.preconditionUid != uid) {
      return apiFail(kubeapi::conflictStatus(
          groupResource(), name,
          fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: {}",
                      *options.preconditionUid, uid)));
    }
    std::string version = std::to_string(modRevision);
    if (options.preconditionResourceVersion && *options.preconditionResourceVersion != version) {
      return apiFail(kubeapi::conflictStatus(
          groupResource(), name,
          fmt::format("Precondition failed: ResourceVersion in precondition: {}, "
                      "ResourceVersion in object meta: {}",
                      *options.preconditionResourceVersion, version)));
    }
    if (options.admit) {
      if (auto refused = options.admit(current)) return apiFail(*refused);
    }

    Json updated = current;
    if (options.propagationPolicy == "Orphan") addFinalizer(updated, "orphan");
    if (options.propagationPolicy == "Foreground") addFinalizer(updated, "foregroundDeletion");

    // Graceful deletion: the object stays with a deletionTimestamp until its node confirms.
    std::int64_t grace = 0;
    if (auto defaultGrace = strategy_.defaultGracePeriodSeconds(current)) {
      grace = options.gracePeriodSeconds.value_or(*defaultGrace);
      if (grace < 0) grace = 0;
      if (!strategy_.deleteWaitsForGrace(current, grace)) grace = 0;
    }
    bool beingDeleted = !stringAt(current, "deletionTimestamp").empty();
    Json& meta = metadata(updated);
    if (grace > 0) {
      std::int64_t currentGrace = int64At(current, "deletionGracePeriodSeconds");
      if (beingDeleted && currentGrace <= grace && updated == current) {
        return DeleteResult{withRevision(current, modRevision), false};
      }
      if (!beingDeleted || grace < currentGrace) {
        meta["deletionTimestamp"] = kubeapi::formatTime(env_.now() + std::chrono::seconds(grace));
        meta["deletionGracePeriodSeconds"] = grace;
      }
    } else if (strategy_.deferDelete(updated) || hasFinalizers(updated)) {
      if (!beingDeleted) meta["deletionTimestamp"] = nowTimestamp();
      meta["deletionGracePeriodSeconds"] = 0;
    } else {
      auto deleted = deleteNow(key, current, modRevision, options.dryRun);
      if (!deleted && deleted.error().reason == kubeapi::reason::kConflict && !preconditioned) {
        continue;
      }
      return deleted;
    }
    if (updated == current || options.dryRun)
      return DeleteResult{withRevision(updated, modRevision), false};
    auto written = backend_.update(key, encode(updated), modRevision);
    if (!written) return apiFail(apiErrorFrom(written.error(), groupResource(), name));
    if (!written->succeeded) continue;
    return DeleteResult{withRevision(std::move(updated), written->kv->modRevision), false};
  }
  return apiFail(kubeapi::optimisticLockConflictStatus(groupResource(), name));
}

}  // namespace berth::controlplane::apiserver
