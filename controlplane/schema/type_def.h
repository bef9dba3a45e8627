#pragma once
// The in-memory form of one described type (schema/types/*.k8s; the format is in
// docs/ARCHITECTURE.md, "controlplane/schema"). Every derivation (field validation, patches,
// defaults, Table rows, OpenAPI) reads these and nothing else. Names and descriptions are views
// into the description text, which the Registry keeps alive: loading copies nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::controlplane::schema {

struct TypeDef;

// What a value is on the wire.
enum class ValueKind : std::uint8_t {
  kString,
  kInt32,
  kInt64,
  kDouble,
  kBool,
  kBytes,  // a base64 string (Go []byte)
  kArray,  // []elem
  kMap,    // map[string]elem
  kNamed,  // a described type: a struct or a named scalar (Quantity, Time, ...)
};

// A named type that is not a struct: how it is written and checked.
enum class Scalar : std::uint8_t {
  kNone,         // a struct with fields
  kQuantity,     // resource.Quantity: "100m", "1Gi" (a string, or a number on input)
  kIntOrString,  // intstr.IntOrString: an integer or a string
  kTime,         // meta/v1 Time: RFC 3339 seconds, or null
  kMicroTime,    // meta/v1 MicroTime: RFC 3339 with microseconds, or null
  kObject,       // free-form JSON (RawExtension, FieldsV1, Patch)
};

enum class ListType : std::uint8_t { kUnset, kAtomic, kSet, kMap };  // x-kubernetes-list-type
enum class MapType : std::uint8_t { kUnset, kAtomic, kGranular };    // x-kubernetes-map-type

struct TypeRef {
  ValueKind kind = ValueKind::kString;
  const TypeDef* def = nullptr;   // kNamed
  const TypeRef* elem = nullptr;  // kArray, kMap: owned by the Registry
};

struct Field {
  std::string_view name;
  TypeRef type;
  std::string_view description;
  bool required = false;
  // Go writes it even when unset (a non-pointer struct, or a non-omitempty scalar): upstream's
  // OpenAPI v3 publishes its zero value as the default.
  bool always = false;
  std::string_view patchMergeKey;  // patchMergeKey / x-kubernetes-patch-merge-key
  std::string_view patchStrategy;  // "merge", "retainKeys", "merge,retainKeys", "replace"
  ListType listType = ListType::kUnset;
  std::vector<std::string_view> listMapKeys;
  MapType mapType = MapType::kUnset;
  std::vector<std::string_view> enumValues;  // for a list: its items' values
  // Published in OpenAPI (upstream's +default) and applied when the field is absent.
  std::optional<nlohmann::json> defaultValue;
  // Applied when absent, as the apiserver's static defaulting does, but not published.
  std::optional<nlohmann::json> serverDefault;
  // The Go type the apiserver decodes into, for decode errors, where the wire type does not say
  // it ("v1.RestartPolicy", "v1.ResourceList"); empty: derived from `type`.
  std::string_view goType;

  bool mergesByKey() const { return patchStrategy.find("merge") != std::string_view::npos; }
  bool retainsKeys() const { return patchStrategy.find("retainKeys") != std::string_view::npos; }
};

struct GroupVersionKind {
  std::string_view group;  // "" for core
  std::string_view version;
  std::string_view kind;
};

// x-kubernetes-unions: a discriminator field and the value naming each member field.
struct Union {
  std::string_view discriminator;
  std::vector<std::pair<std::string_view, std::string_view>> members;  // field, value
};

// One Table column (meta/v1 TableColumnDefinition) of a served kind.
struct PrinterColumn {
  std::string_view name;    // "Nominated Node"
  std::string_view type;    // "string", "integer", "date", ...
  std::string_view format;  // "name" for the Name column
  int priority = 0;         // 0: always shown; 1: with -o wide
  std::string_view description;
  std::string_view jsonPath;  // ".status.podIP": the cell is that value
  std::string_view cell;      // else a named cell function (schema/printers)
};

struct TypeDef {
  std::string name;  // "io.k8s.api.core.v1.Pod"
  std::string_view description;
  Scalar scalar = Scalar::kNone;
  MapType mapType = MapType::kUnset;
  std::vector<GroupVersionKind> kinds;  // x-kubernetes-group-version-kind
  bool everyGroupVersion = false;       // DeleteOptions, WatchEvent: every served group version
  bool published = true;                // false: left out of OpenAPI, as upstream leaves Table
  std::vector<Field> fields;            // in description order
  std::vector<Union> unions;
  std::vector<PrinterColumn> columns;

  const Field* field(std::string_view fieldName) const;
  std::string_view shortName() const;  // "Pod"
  std::string_view package() const;    // "io.k8s.api.core.v1"
  std::string_view goPackage() const;  // "v1", "intstr", "resource"
  bool isStruct() const { return scalar == Scalar::kNone; }

  // Sorted field indices for field(); filled by the Registry.
  std::vector<std::uint16_t> byName;
};

}  // namespace berth::controlplane::schema
