#include "kubeapi/object_meta.h"

#include <algorithm>

namespace berth::kubeapi {
namespace {

const nlohmann::json& nullJson() {
  static const nlohmann::json kNull;
  return kNull;
}

const nlohmann::json& member(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullJson();
  auto it = j.find(key);
  return it == j.end() ? nullJson() : *it;
}

std::string_view stringOf(const nlohmann::json& j) {
  return j.is_string() ? std::string_view(j.get_ref<const std::string&>()) : std::string_view();
}

std::string_view metaString(const nlohmann::json& obj, std::string_view key) {
  return stringOf(member(metadataOf(obj), key));
}

LabelMap mapOf(const nlohmann::json& j) {
  LabelMap out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items())
    if (v.is_string()) out.emplace(k, v.get<std::string>());
  return out;
}

std::optional<Time> timeOf(const nlohmann::json& j) {
  auto t = timeFromJson(j);
  return t ? *t : std::nullopt;
}

void setMetaString(nlohmann::json& obj, const char* key, std::string_view value) {
  auto& meta = metadataOf(obj);
  if (value.empty()) {
    meta.erase(key);
  } else {
    meta[key] = value;
  }
}

void setMapEntry(nlohmann::json& obj, const char* map, std::string_view key,
                 std::string_view value) {
  auto& m = metadataOf(obj)[map];
  if (!m.is_object()) m = nlohmann::json::object();
  m[std::string(key)] = value;
}

void removeMapEntry(nlohmann::json& obj, const char* map, std::string_view key) {
  auto& meta = metadataOf(obj);
  auto it = meta.find(map);
  if (it == meta.end() || !it->is_object()) return;
  it->erase(std::string(key));
  if (it->empty()) meta.erase(it);
}

}  // namespace

nlohmann::json OwnerReference::toJson() const {
  nlohmann::json j = {{"apiVersion", apiVersion}, {"kind", kind}, {"name", name}, {"uid", uid}};
  if (controller) j["controller"] = *controller;
  if (blockOwnerDeletion) j["blockOwnerDeletion"] = *blockOwnerDeletion;
  return j;
}

OwnerReference OwnerReference::fromJson(const nlohmann::json& j) {
  OwnerReference r;
  r.apiVersion = stringOf(member(j, "apiVersion"));
  r.kind = stringOf(member(j, "kind"));
  r.name = stringOf(member(j, "name"));
  r.uid = stringOf(member(j, "uid"));
  if (const auto& c = member(j, "controller"); c.is_boolean()) r.controller = c.get<bool>();
  if (const auto& b = member(j, "blockOwnerDeletion"); b.is_boolean())
    r.blockOwnerDeletion = b.get<bool>();
  return r;
}

std::string_view apiVersionOf(const nlohmann::json& obj) {
  return stringOf(member(obj, "apiVersion"));
}
std::string_view kindOf(const nlohmann::json& obj) {
  return stringOf(member(obj, "kind"));
}

GroupVersionKind gvkOf(const nlohmann::json& obj) {
  auto gv = GroupVersion::parse(apiVersionOf(obj));
  return {gv.group, gv.version, std::string(kindOf(obj))};
}

void setTypeMeta(nlohmann::json& obj, const GroupVersionKind& gvk) {
  obj["apiVersion"] = gvk.apiVersion();
  obj["kind"] = gvk.kind;
}

const nlohmann::json& metadataOf(const nlohmann::json& obj) {
  return member(obj, "metadata");
}
std::string_view nameOf(const nlohmann::json& obj) {
  return metaString(obj, "name");
}
std::string_view generateNameOf(const nlohmann::json& obj) {
  return metaString(obj, "generateName");
}
std::string_view namespaceOf(const nlohmann::json& obj) {
  return metaString(obj, "namespace");
}
std::string_view uidOf(const nlohmann::json& obj) {
  return metaString(obj, "uid");
}
std::string_view resourceVersionOf(const nlohmann::json& obj) {
  return metaString(obj, "resourceVersion");
}

std::int64_t generationOf(const nlohmann::json& obj) {
  const auto& g = member(metadataOf(obj), "generation");
  return g.is_number_integer() ? g.get<std::int64_t>() : 0;
}

const nlohmann::json& labelsJsonOf(const nlohmann::json& obj) {
  return member(metadataOf(obj), "labels");
}
LabelMap labelsOf(const nlohmann::json& obj) {
  return mapOf(labelsJsonOf(obj));
}
LabelMap annotationsOf(const nlohmann::json& obj) {
  return mapOf(member(metadataOf(obj), "annotations"));
}

std::optional<std::string_view> labelOf(const nlohmann::json& obj, std::string_view key) {
  return LabelsView(labelsJsonOf(obj)).get(key);
}

std::optional<std::string_view> annotationOf(const nlohmann::json& obj, std::string_view key) {
  return LabelsView(member(metadataOf(obj), "annotations")).get(key);
}

std::vector<std::string> finalizersOf(const nlohmann::json& obj) {
  std::vector<std::string> out;
  const auto& f = member(metadataOf(obj), "finalizers");
  if (!f.is_array()) return out;
  for (const auto& e : f)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

bool hasFinalizer(const nlohmann::json& obj, std::string_view finalizer) {
  const auto& f = member(metadataOf(obj), "finalizers");
  if (!f.is_array()) return false;
  return std::any_of(f.begin(), f.end(), [&](const auto& e) { return stringOf(e) == finalizer; });
}

std::vector<OwnerReference> ownerReferencesOf(const nlohmann::json& obj) {
  std::vector<OwnerReference> out;
  const auto& refs = member(metadataOf(obj), "ownerReferences");
  if (!refs.is_array()) return out;
  for (const auto& r : refs)
    out.push_back(OwnerReference::fromJson(r));
  return out;
}

std::optional<OwnerReference> controllerOf(const nlohmann::json& obj) {
  for (auto& r : ownerReferencesOf(obj))
    if (r.controller.value_or(false)) return r;
  return std::nullopt;
}

std::optional<Time> creationTimestampOf(const nlohmann::json& obj) {
  return timeOf(member(metadataOf(obj), "creationTimestamp"));
}
std::optional<Time> deletionTimestampOf(const nlohmann::json& obj) {
  return timeOf(member(metadataOf(obj), "deletionTimestamp"));
}

std::optional<std::int64_t> deletionGracePeriodSecondsOf(const nlohmann::json& obj) {
  const auto& g = member(metadataOf(obj), "deletionGracePeriodSeconds");
  if (!g.is_number_integer()) return std::nullopt;
  return g.get<std::int64_t>();
}

std::string objectKey(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string key(ns);
  key += '/';
  key += name;
  return key;
}

std::string objectKey(const nlohmann::json& obj) {
  return objectKey(namespaceOf(obj), nameOf(obj));
}

nlohmann::json& metadataOf(nlohmann::json& obj) {
  if (!obj.is_object()) obj = nlohmann::json::object();
  auto& meta = obj["metadata"];
  if (!meta.is_object()) meta = nlohmann::json::object();
  return meta;
}

void setName(nlohmann::json& obj, std::string_view name) {
  setMetaString(obj, "name", name);
}
void setGenerateName(nlohmann::json& obj, std::string_view prefix) {
  setMetaString(obj, "generateName", prefix);
}
void setNamespace(nlohmann::json& obj, std::string_view ns) {
  setMetaString(obj, "namespace", ns);
}
void setUid(nlohmann::json& obj, std::string_view uid) {
  setMetaString(obj, "uid", uid);
}
void setResourceVersion(nlohmann::json& obj, std::string_view rv) {
  setMetaString(obj, "resourceVersion", rv);
}

void setGeneration(nlohmann::json& obj, std::int64_t generation) {
  auto& meta = metadataOf(obj);
  if (generation == 0) {
    meta.erase("generation");
  } else {
    meta["generation"] = generation;
  }
}

void setLabel(nlohmann::json& obj, std::string_view key, std::string_view value) {
  setMapEntry(obj, "labels", key, value);
}
void removeLabel(nlohmann::json& obj, std::string_view key) {
  removeMapEntry(obj, "labels", key);
}
void setAnnotation(nlohmann::json& obj, std::string_view key, std::string_view value) {
  setMapEntry(obj, "annotations", key, value);
}
void removeAnnotation(nlohmann::json& obj, std::string_view key) {
  removeMapEntry(obj, "annotations", key);
}

bool addFinalizer(nlohmann::json& obj, std::string_view finalizer) {
  if (hasFinalizer(obj, finalizer)) return false;
  auto& f = metadataOf(obj)["finalizers"];
  if (!f.is_array()) f = nlohmann::json::array();
  f.push_back(finalizer);
  return true;
}

bool removeFinalizer(nlohmann::json& obj, std::string_view finalizer) {
  auto& meta = metadataOf(obj);
  auto it = meta.find("finalizers");
  if (it == meta.end() || !it->is_array()) return false;
  auto before = it->size();
  nlohmann::json kept = nlohmann::json::array();
  for (auto& e : *it)
    if (stringOf(e) != finalizer) kept.push_back(std::move(e));
  bool changed = kept.size() != before;
  if (kept.empty()) {
    meta.erase(it);
  } else {
    *it = std::move(kept);
  }
  return changed;
}

void setOwnerReferences(nlohmann::json& obj, const std::vector<OwnerReference>& refs) {
  auto& meta = metadataOf(obj);
  if (refs.empty()) {
    meta.erase("ownerReferences");
    return;
  }
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : refs)
    arr.push_back(r.toJson());
  meta["ownerReferences"] = std::move(arr);
}

void setCreationTimestamp(nlohmann::json& obj, std::optional<Time> t) {
  // ObjectMeta.creationTimestamp has no omitempty: an unset one is written as null.
  metadataOf(obj)["creationTimestamp"] = timeToJson(t);
}

void setDeletionTimestamp(nlohmann::json& obj, std::optional<Time> t) {
  auto& meta = metadataOf(obj);
  if (!t) {
    meta.erase("deletionTimestamp");
  } else {
    meta["deletionTimestamp"] = formatTime(*t);
  }
}

void setDeletionGracePeriodSeconds(nlohmann::json& obj, std::optional<std::int64_t> seconds) {
  auto& meta = metadataOf(obj);
  if (!seconds) {
    meta.erase("deletionGracePeriodSeconds");
  } else {
    meta["deletionGracePeriodSeconds"] = *seconds;
  }
}

}  // namespace berth::kubeapi
