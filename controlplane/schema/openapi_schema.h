#pragma once
// The OpenAPI schema of a described type, as kube-apiserver publishes it: Swagger 2.0
// definitions for /openapi/v2, and OpenAPI 3.0 component schemas (allOf-wrapped references,
// zero defaults for Go value fields) for /openapi/v3.
#include <set>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

enum class OpenApiFlavor { kV2, kV3 };

struct GroupVersion {
  std::string group;  // "" for core
  std::string version;
  auto operator<=>(const GroupVersion&) const = default;
};

// "#/definitions/<name>" (v2) or "#/components/schemas/<name>" (v3).
std::string schemaRef(std::string_view typeName, OpenApiFlavor flavor);

// The schema of `type`. DeleteOptions and WatchEvent list every served group version as their
// kinds, so the caller passes those.
nlohmann::json typeSchema(const TypeDef& type, OpenApiFlavor flavor,
                          std::span<const GroupVersion> servedGroupVersions);

// Adds `type` and every published type its fields reach to `names`.
void addReachableTypes(const TypeDef& type, std::set<std::string>& names);

}  // namespace berth::controlplane::schema
