#pragma once
// An object's fields read through its type description, as structured-merge-diff reads a typed
// value for server-side apply: which lists are keyed (listType=map and its listMapKeys, or a
// strategic merge key), sets (listType=set) or atomic, which maps and structs are atomic
// (map=atomic) or granular. The same description serves strategic merge patch (type_def.h):
// an undeclared listType falls back to the patch strategy, as upstream's OpenAPI conversion does.
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/field_set.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

// What changed from one object to another, as paths (upstream's typed.Comparison).
struct Comparison {
  FieldSet added;     // absent before (a new struct or list item is a member with its children)
  FieldSet modified;  // a leaf or atomic value that differs
  FieldSet removed;   // absent after
};

// The fields an apply configuration sets (upstream's ToFieldSet): every leaf, atomic value, list
// item and map key, and struct fields that are null or empty. An undeclared field is an error
// naming its path (".spec.foo: field not declared in schema").
[[nodiscard]] Result<FieldSet> fieldSetOf(const nlohmann::json& object, const TypeDef& type);

// The paths that differ between `before` (null: nothing) and `after`.
[[nodiscard]] Result<Comparison> compareObjects(const nlohmann::json& before,
                                                const nlohmann::json& after, const TypeDef& type);

// `config` merged into `live`: leaves and atomic values replaced, structs and maps merged key by
// key, keyed lists and sets merged item by item in upstream's order (the configuration's items in
// its order, live-only items where they were).
[[nodiscard]] Result<nlohmann::json> mergeObjects(const nlohmann::json& live,
                                                  const nlohmann::json& config,
                                                  const TypeDef& type);

// `object` without the fields, list items and map keys that are members of `set`.
nlohmann::json removeFields(nlohmann::json object, const FieldSet& set, const TypeDef& type);

// The type's zero value as Go marshals it: the fields written even when unset (non-pointer
// structs, non-omitempty scalars), null for the other required fields (Go's nil pointer or slice
// without omitempty), nothing else. What a create is compared against.
nlohmann::json zeroObject(const TypeDef& type);

}  // namespace berth::controlplane::schema
