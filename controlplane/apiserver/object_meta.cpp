#include "controlplane/apiserver/object_meta.h"

#include <set>

#include "kubeapi/validation.h"

namespace berth::controlplane::apiserver {
namespace {

const Json& metaOf(const Json& object) {
  static const Json kEmpty = Json::object();
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

kubeapi::NameValidator nameValidator(Strategy::NameRule rule) {
  switch (rule) {
    case Strategy::NameRule::kLabel:
      return kubeapi::nameIsDNSLabel;
    case Strategy::NameRule::kPathSegment:
      return [](std::string_view name, bool) { return kubeapi::isValidPathSegmentName(name); };
    case Strategy::NameRule::kSubdomain:
      break;
  }
  return kubeapi::nameIsDNSSubdomain;
}

// ValidateImmutableField: "field is immutable".
void immutable(const Json& meta, const Json& oldMeta, const char* field,
               const kubeapi::FieldPath& path, FieldErrors& errors) {
  Json now = meta.value(field, Json());
  Json before = oldMeta.value(field, Json());
  if (now != before) {
    errors.push_back(FieldError::invalid(path.child(field), now, "field is immutable"));
  }
}

}  // namespace

FieldErrors validateObjectMeta(const Json& object, bool namespaced, Strategy::NameRule rule) {
  return kubeapi::validateObjectMeta(metaOf(object), namespaced, nameValidator(rule),
                                     kubeapi::FieldPath("metadata"));
}

FieldErrors validateObjectMetaUpdate(const Json& object, const Json& old, bool namespaced,
                                     Strategy::NameRule rule) {
  FieldErrors errors = validateObjectMeta(object, namespaced, rule);
  const Json& meta = metaOf(object);
  const Json& oldMeta = metaOf(old);
  kubeapi::FieldPath path("metadata");
  for (const char* field : {"name", "namespace", "uid", "creationTimestamp"}) {
    immutable(meta, oldMeta, field, path, errors);
  }
  if (oldMeta.contains("deletionTimestamp")) {
    std::set<std::string> before;
    for (const Json& f : oldMeta.value("finalizers", Json::array())) {
      if (f.is_string()) before.insert(f.get<std::string>());
    }
    Json added = Json::array();
    for (const Json& f : meta.value("finalizers", Json::array())) {
      if (f.is_string() && !before.contains(f.get<std::string>())) added.push_back(f);
    }
    if (!added.empty()) {
      errors.push_back(FieldError::forbidden(
          path.child("finalizers"),
          "no new finalizers can be added if the object is being deleted, found new finalizers " +
              added.dump()));
    }
  }
  return errors;
}

}  // namespace berth::controlplane::apiserver
