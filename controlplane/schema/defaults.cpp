#include "controlplane/schema/defaults.h"

#include "controlplane/schema/go_values.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

void defaultValue(json& value, const TypeRef& type, const DefaultsOptions& options);

void defaultStruct(json& object, const TypeDef& def, const DefaultsOptions& options) {
  for (const Field& f : def.fields) {
    std::string name(f.name);
    auto it = object.find(name);
    if (it != object.end() && !it->is_null()) {
      defaultValue(*it, f.type, options);
      continue;
    }
    const std::optional<json>& given = f.defaultValue ? f.defaultValue : f.serverDefault;
    if (given) {
      json v = *given;
      defaultValue(v, f.type, options);
      object[name] = std::move(v);
      continue;
    }
    if (!f.always) continue;
    if (f.type.kind == ValueKind::kNamed && f.type.def->isStruct()) {
      // A Go value struct exists even when unset, and its own defaults apply.
      json v = json::object();
      defaultStruct(v, *f.type.def, options);
      if (options.zeroValues || !v.empty()) object[name] = std::move(v);
    } else if (options.zeroValues) {
      // Nil slices and maps are written as null: those stay out.
      if (json zero = goZeroValue(f.type); !zero.is_null()) object[name] = std::move(zero);
    }
  }
}

void defaultValue(json& value, const TypeRef& type, const DefaultsOptions& options) {
  switch (type.kind) {
    case ValueKind::kNamed:
      if (type.def->isStruct() && value.is_object()) defaultStruct(value, *type.def, options);
      break;
    case ValueKind::kArray:
      if (value.is_array())
        for (json& item : value)
          defaultValue(item, *type.elem, options);
      break;
    case ValueKind::kMap:
      if (value.is_object())
        for (auto& [k, v] : value.items())
          defaultValue(v, *type.elem, options);
      break;
    default:
      break;
  }
}

}  // namespace

void applyDefaults(json& object, const TypeDef& type, DefaultsOptions options) {
  if (object.is_object() && type.isStruct()) defaultStruct(object, type, options);
}

}  // namespace berth::controlplane::schema
