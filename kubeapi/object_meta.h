#pragma once
// TypeMeta and ObjectMeta accessors over an object kept as JSON (DESIGN: objects stay JSON so
// fields we don't know survive a read-modify-write). Readers never throw: a missing or
// mistyped field reads as empty / 0 / nullopt. Writers create "metadata" when missing and
// remove a map or list when its last entry goes, as Go's omitempty would.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/group_version.h"
#include "kubeapi/label_requirement.h"
#include "kubeapi/meta_time.h"

namespace berth::kubeapi {

struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> blockOwnerDeletion;

  nlohmann::json toJson() const;
  static OwnerReference fromJson(const nlohmann::json& j);
  bool operator==(const OwnerReference&) const = default;
};

// TypeMeta.
std::string_view apiVersionOf(const nlohmann::json& obj);
std::string_view kindOf(const nlohmann::json& obj);
GroupVersionKind gvkOf(const nlohmann::json& obj);
void setTypeMeta(nlohmann::json& obj, const GroupVersionKind& gvk);

// ObjectMeta reads.
const nlohmann::json& metadataOf(const nlohmann::json& obj);  // null when absent
std::string_view nameOf(const nlohmann::json& obj);
std::string_view generateNameOf(const nlohmann::json& obj);
std::string_view namespaceOf(const nlohmann::json& obj);
std::string_view uidOf(const nlohmann::json& obj);
std::string_view resourceVersionOf(const nlohmann::json& obj);
std::int64_t generationOf(const nlohmann::json& obj);
// The labels object itself (null when absent), for LabelSelector::matches without a copy.
const nlohmann::json& labelsJsonOf(const nlohmann::json& obj);
LabelMap labelsOf(const nlohmann::json& obj);
LabelMap annotationsOf(const nlohmann::json& obj);
std::optional<std::string_view> labelOf(const nlohmann::json& obj, std::string_view key);
std::optional<std::string_view> annotationOf(const nlohmann::json& obj, std::string_view key);
std::vector<std::string> finalizersOf(const nlohmann::json& obj);
bool hasFinalizer(const nlohmann::json& obj, std::string_view finalizer);
std::vector<OwnerReference> ownerReferencesOf(const nlohmann::json& obj);
// The owner reference with controller=true (metav1.GetControllerOf).
std::optional<OwnerReference> controllerOf(const nlohmann::json& obj);
std::optional<Time> creationTimestampOf(const nlohmann::json& obj);
std::optional<Time> deletionTimestampOf(const nlohmann::json& obj);
std::optional<std::int64_t> deletionGracePeriodSecondsOf(const nlohmann::json& obj);
// "namespace/name", or "name" for a cluster-scoped object (cache.MetaNamespaceKeyFunc).
std::string objectKey(const nlohmann::json& obj);
std::string objectKey(std::string_view ns, std::string_view name);

// ObjectMeta writes.
nlohmann::json& metadataOf(nlohmann::json& obj);  // created when absent
void setName(nlohmann::json& obj, std::string_view name);
void setGenerateName(nlohmann::json& obj, std::string_view prefix);
void setNamespace(nlohmann::json& obj, std::string_view ns);
void setUid(nlohmann::json& obj, std::string_view uid);
void setResourceVersion(nlohmann::json& obj, std::string_view rv);
void setGeneration(nlohmann::json& obj, std::int64_t generation);
void setLabel(nlohmann::json& obj, std::string_view key, std::string_view value);
void removeLabel(nlohmann::json& obj, std::string_view key);
void setAnnotation(nlohmann::json& obj, std::string_view key, std::string_view value);
void removeAnnotation(nlohmann::json& obj, std::string_view key);
// Return whether the list changed.
bool addFinalizer(nlohmann::json& obj, std::string_view finalizer);
bool removeFinalizer(nlohmann::json& obj, std::string_view finalizer);
void setOwnerReferences(nlohmann::json& obj, const std::vector<OwnerReference>& refs);
void setCreationTimestamp(nlohmann::json& obj, std::optional<Time> t);
void setDeletionTimestamp(nlohmann::json& obj, std::optional<Time> t);
void setDeletionGracePeriodSeconds(nlohmann::json& obj, std::optional<std::int64_t> seconds);

}  // namespace berth::kubeapi
