#pragma once
// What the handlers take from the type descriptions (controlplane/schema): decoding with field
// validation, static defaults, patches that need merge keys, and the OpenAPI documents. Wired in
// one place (server_schema.cpp) so the handlers stay independent of how descriptions are kept.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/server.h"
#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/strategy.h"
#include "controlplane/schema/managed_fields.h"
#include "controlplane/schema/served.h"

namespace berth::controlplane::apiserver {

// The kind a request body or patch result must be: group, version, kind.
struct BodyKind {
  std::string group;
  std::string version;
  std::string kind;
};

struct SchemaHooks {
  // Decodes a create or update body of `kind` under fieldValidation `mode` (the query value, ""
  // for the default): unknown fields dropped, strict failures and mistyped values as the
  // apiserver's 400s, Warn-mode problems appended to `warnings`.
  std::function<ApiResult<Json>(const BodyKind& kind, std::string_view body, std::string_view mode,
                                std::vector<std::string>& warnings)>
      decode;
  // A body in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf: the "k8s\0"
  // envelope around a runtime.Unknown), as JSON. What client-go's typed clients send, kubectl's
  // `create <kind>`, `drain` and `certificate approve` among them. Unset: such bodies get 415.
  std::function<ApiResult<Json>(std::string_view body)> decodeProtobuf;
  // The same for an object a patch produced.
  std::function<ApiResult<Json>(const BodyKind& kind, const Json& object, std::string_view mode,
                                std::vector<std::string>& warnings)>
      check;
  // The description's static defaults.
  std::function<void(const BodyKind& kind, Json& object)> applyDefaults;
  // A PATCH body applied to `current` (Content-Type: json-patch, merge-patch or
  // strategic-merge-patch); the patch document's own strict problems (duplicate fields, unknown
  // fields of JSON patch operations) are handled under `mode` like a body's. 415 for another
  // content type.
  std::function<ApiResult<Json>(const BodyKind& kind, std::string_view contentType,
                                const Json& current, std::string_view patch, std::string_view mode,
                                std::vector<std::string>& warnings)>
      applyPatch;
  // metadata.managedFields after an Update operation (create, PUT, a non-apply patch, scale)
  // from `live` (null: a create) to `object`. Never fails the write: a field set that cannot be
  // computed clears managedFields, as upstream's UpdateNoErrors.
  std::function<Json(const BodyKind& kind, const Json* live, Json object,
                     const schema::FieldManagerRequest& request)>
      recordUpdate;
  // Server-side apply (application/apply-patch+yaml) of a PATCH body to `live` (null: the object
  // does not exist yet): the merged object with its managedFields, or the apiserver's errors
  // (409 with FieldManagerConflict causes unless `force`).
  std::function<ApiResult<Json>(const BodyKind& kind, const Json* live, std::string_view body,
                                const schema::FieldManagerRequest& request, bool force)>
      apply;
  // /openapi/v2, /openapi/v3 and its documents; nullopt for other paths.
  std::function<std::optional<http::Response>(const http::Request&)> openapi;
};

// The kind a served resource or subresource takes.
BodyKind bodyKindOf(const schema::ServedResource& served);

}  // namespace berth::controlplane::apiserver
