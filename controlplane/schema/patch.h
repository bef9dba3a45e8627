#pragma once
// The three PATCH formats as kube-apiserver 1.32 applies them to the stored object:
//   application/json-patch+json            RFC 6902, as evanphx/json-patch (v4) applies it
//   application/merge-patch+json           RFC 7386, likewise
//   application/strategic-merge-patch+json apimachinery's strategic merge patch, with the merge
//     keys and patch strategies of the described type: $patch (replace/delete/merge),
//     $retainKeys, $deleteFromPrimitiveList/<list>, $setElementOrder/<list>, and lists of
//     primitives with the merge strategy. So `kubectl apply` of an edited Deployment changes
//     one container, not the list.
// application/apply-patch+yaml is server-side apply: managed_fields.h (applyConfiguration).
//
// Error codes map to the apiserver's statuses: kInvalidArgument 400 (the patch cannot be read),
// kFailedPrecondition 422 (it does not apply), kResourceExhausted 413 (too many operations),
// kInternal 500 (what upstream does not classify). The result is then decoded as the type
// (field_validation.h: checkFields) and a strict failure there is a 422 on "patch".
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/schema/type_def.h"

namespace berth::controlplane::schema {

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };

// From the request's Content-Type (parameters ignored); nullopt for anything else (a 415).
std::optional<PatchType> patchTypeFromContentType(std::string_view contentType);

[[nodiscard]] Result<nlohmann::json> applyJsonPatch(const nlohmann::json& document,
                                                    std::string_view patch);
[[nodiscard]] Result<nlohmann::json> applyMergePatch(const nlohmann::json& document,
                                                     std::string_view patch);
[[nodiscard]] Result<nlohmann::json> applyStrategicMergePatch(const nlohmann::json& original,
                                                              std::string_view patch,
                                                              const TypeDef& type);
// The same on a parsed patch (what kubectl-style clients and tests build in memory).
[[nodiscard]] Result<nlohmann::json> applyStrategicMergePatch(nlohmann::json original,
                                                              nlohmann::json patch,
                                                              const TypeDef& type);

// Under fieldValidation Strict or Warn, the strict errors of the patch document itself, as the
// apiserver reports them before applying it: for a JSON patch, unknown and duplicate fields of
// its operations ("json patch unknown field \"[0].foo\""); for merge and strategic merge
// patches, duplicate fields at any depth. An error (400) when the document cannot be decoded.
[[nodiscard]] Result<std::vector<std::string>> patchStrictErrors(PatchType type,
                                                                 std::string_view patch);

}  // namespace berth::controlplane::schema
