#include "controlplane/schema/openapi_schema.h"

#include "controlplane/schema/go_values.h"

#include <fmt/format.h>

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

json primitive(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return {{"type", "string"}};
    case ValueKind::kInt32:
      return {{"type", "integer"}, {"format", "int32"}};
    case ValueKind::kInt64:
      return {{"type", "integer"}, {"format", "int64"}};
    case ValueKind::kDouble:
      return {{"type", "number"}, {"format", "double"}};
    case ValueKind::kBool:
      return {{"type", "boolean"}};
    case ValueKind::kBytes:
      return {{"type", "string"}, {"format", "byte"}};
    default:
      return json::object();
  }
}

// The schema of a list item or a map value: upstream publishes the zero default of Go value
// types there too (strings, numbers, structs), but not of []byte, named scalars or nested
// collections.
json elementSchema(const TypeRef& ref, OpenApiFlavor flavor) {
  switch (ref.kind) {
    case ValueKind::kNamed: {
      json r = {{"$ref", schemaRef(ref.def->name, flavor)}};
      if (flavor == OpenApiFlavor::kV2 || !ref.def->isStruct()) return r;
      return {{"allOf", json::array({r})}, {"default", json::object()}};
    }
    case ValueKind::kArray:
      return {{"type", "array"}, {"items", elementSchema(*ref.elem, flavor)}};
    case ValueKind::kMap:
      return {{"type", "object"}, {"additionalProperties", elementSchema(*ref.elem, flavor)}};
    default: {
      json p = primitive(ref.kind);
      if (flavor == OpenApiFlavor::kV3 && ref.kind != ValueKind::kBytes)
        p["default"] = goZeroValue(ref);
      return p;
    }
  }
}

json fieldSchema(const Field& f, OpenApiFlavor flavor) {
  json s;
  const TypeRef& ref = f.type;
  switch (ref.kind) {
    case ValueKind::kNamed: {
      json r = {{"$ref", schemaRef(ref.def->name, flavor)}};
      if (flavor == OpenApiFlavor::kV2) {
        s = r;
      } else {
        s["allOf"] = json::array({r});
      }
      break;
    }
    case ValueKind::kArray:
      s = {{"type", "array"}, {"items", elementSchema(*ref.elem, flavor)}};
      break;
    case ValueKind::kMap:
      s = {{"type", "object"}, {"additionalProperties", elementSchema(*ref.elem, flavor)}};
      break;
    default:
      s = primitive(ref.kind);
  }
  s["description"] = f.description;
  if (flavor == OpenApiFlavor::kV3) {
    if (f.defaultValue) {
      s["default"] = *f.defaultValue;
    } else if (f.always) {
      s["default"] = goZeroValue(ref);
    }
  }
  if (!f.patchMergeKey.empty()) s["x-kubernetes-patch-merge-key"] = f.patchMergeKey;
  if (!f.patchStrategy.empty()) s["x-kubernetes-patch-strategy"] = f.patchStrategy;
  static constexpr const char* kListTypes[] = {"", "atomic", "set", "map"};
  if (f.listType != ListType::kUnset)
    s["x-kubernetes-list-type"] = kListTypes[static_cast<int>(f.listType)];
  if (!f.listMapKeys.empty()) s["x-kubernetes-list-map-keys"] = f.listMapKeys;
  if (f.mapType != MapType::kUnset)
    s["x-kubernetes-map-type"] = f.mapType == MapType::kAtomic ? "atomic" : "granular";
  return s;
}

json gvk(std::string_view group, std::string_view version, std::string_view kind) {
  return {{"group", group}, {"version", version}, {"kind", kind}};
}

}  // namespace

std::string schemaRef(std::string_view typeName, OpenApiFlavor flavor) {
  return fmt::format(
      "{}{}", flavor == OpenApiFlavor::kV2 ? "#/definitions/" : "#/components/schemas/", typeName);
}

json typeSchema(const TypeDef& type, OpenApiFlavor flavor,
                std::span<const GroupVersion> servedGroupVersions) {
  json s;
  s["description"] = type.description;
  switch (type.scalar) {
    // v3 says what the JSON may hold: a Quantity is also accepted as a number.
    case Scalar::kQuantity:
      if (flavor == OpenApiFlavor::kV2) {
        s["type"] = "string";
      } else {
        s["oneOf"] = json::array({{{"type", "string"}}, {{"type", "number"}}});
      }
      return s;
    case Scalar::kIntOrString:
      s["format"] = "int-or-string";
      if (flavor == OpenApiFlavor::kV2) {
        s["type"] = "string";
      } else {
        s["oneOf"] = json::array({{{"type", "integer"}}, {{"type", "string"}}});
      }
      return s;
    case Scalar::kTime:
    case Scalar::kMicroTime:
      s["type"] = "string";
      s["format"] = "date-time";
      return s;
    case Scalar::kObject:
      s["type"] = "object";
      return s;
    case Scalar::kNone:
      break;
  }
  s["type"] = "object";
  json properties = json::object();
  json required = json::array();
  for (const Field& f : type.fields) {
    properties[std::string(f.name)] = fieldSchema(f, flavor);
    if (f.required) required.push_back(f.name);
  }
  s["properties"] = std::move(properties);
  if (!required.empty()) s["required"] = std::move(required);
  json kinds = json::array();
  if (type.everyGroupVersion) {
    for (const GroupVersion& gv : servedGroupVersions)
      kinds.push_back(gvk(gv.group, gv.version, type.shortName()));
  }
  for (const GroupVersionKind& k : type.kinds)
    kinds.push_back(gvk(k.group, k.version, k.kind));
  if (!kinds.empty()) s["x-kubernetes-group-version-kind"] = std::move(kinds);
  if (type.mapType != MapType::kUnset)
    s["x-kubernetes-map-type"] = type.mapType == MapType::kAtomic ? "atomic" : "granular";
  if (!type.unions.empty()) {
    json unions = json::array();
    for (const Union& u : type.unions) {
      json members = json::object();
      for (auto [field, value] : u.members)
        members[std::string(field)] = value;
      unions.push_back({{"discriminator", u.discriminator}, {"fields-to-discriminateBy", members}});
    }
    s["x-kubernetes-unions"] = std::move(unions);
  }
  return s;
}

void addReachableTypes(const TypeDef& type, std::set<std::string>& names) {
  if (!type.published || !names.insert(type.name).second) return;
  for (const Field& f : type.fields) {
    const TypeRef* ref = &f.type;
    while (ref->kind == ValueKind::kArray || ref->kind == ValueKind::kMap)
      ref = ref->elem;
    if (ref->kind == ValueKind::kNamed) addReachableTypes(*ref->def, names);
  }
}

}  // namespace berth::controlplane::schema
