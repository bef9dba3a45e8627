// Field management in ApiServer: who a write is recorded under in metadata.managedFields, and
// server-side apply (PATCH with application/apply-patch+yaml), as the apiserver's patch handler
// runs it: PatchOptions validated first, the object created when absent, conflicts a 409.
#include "controlplane/apiserver/api_call.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::apiserver {

schema::FieldManagerRequest ApiServer::fieldManager(const Call& call) const {
  schema::FieldManagerRequest request;
  request.manager = std::string(call.request.queryParam("fieldManager").value_or(""));
  if (request.manager.empty()) {
    request.manager =
        schema::managerFromUserAgent(call.request.headers.get("User-Agent").value_or(""));
  }
  // The parent's kind: a scale or status write is recorded on the object it changes.
  BodyKind kind = bodyKindOf(call.entry->served);
  request.apiVersion = kind.group.empty() ? kind.version : kind.group + "/" + kind.version;
  request.subresource = call.info.subresource;
  request.hasStatusSubresource = call.store().strategy().hasStatusSubresource();
  request.time = kubeapi::formatTime(kubeapi::now());
  return request;
}

Json ApiServer::recordUpdate(const Call& call, const Json* live, Json object) const {
  if (!schema_.recordUpdate) return object;
  return schema_.recordUpdate(bodyKindOf(call.entry->served), live, std::move(object),
                              fieldManager(call));
}

ApiResult<http::Response> ApiServer::serverSideApply(Call& call) {
  std::string_view manager = call.request.queryParam("fieldManager").value_or("");
  if (manager.empty()) {
    return apiFail(kubeapi::invalidStatus(
        {"meta.k8s.io", "PatchOptions"}, "",
        {FieldError::required(kubeapi::FieldPath("fieldManager"), "is required for apply patch")}));
  }
  if (!schema_.apply) {
    return apiFail(kubeapi::unsupportedMediaTypeStatus({"application/json-patch+json",
                                                        "application/merge-patch+json",
                                                        "application/strategic-merge-patch+json"}));
  }
  bool force = call.request.queryParam("force").value_or("") == "true";
  schema::FieldManagerRequest request = fieldManager(call);
  const schema::ServedResource& served = *call.served;
  BodyKind kind = bodyKindOf(served);
  std::string_view mode = call.request.queryParam("fieldValidation").value_or("");
  return writeUpdate(
      call,
      [&](const Json* current) -> ApiResult<Json> {
        call.warnings.clear();  // a retry after a lost compare-and-swap warns once
        request.time = kubeapi::formatTime(kubeapi::now());
        Json applied = BERTH_TRY(schema_.apply(kind, current, call.request.body, request, force));
        if (schema_.check) applied = BERTH_TRY(schema_.check(kind, applied, mode, call.warnings));
        return withDefaults(call, std::move(applied), served);
      },
      /*createIfMissing=*/call.info.subresource.empty());
}

}  // namespace berth::controlplane::apiserver
