// Endpoints that are not plain reads and writes of a stored object: the access and token
// reviews, bindings, evictions, service account tokens, the scale subresource and a pod's
// ephemeral containers.
#include <fmt/format.h>

#include "controlplane/apiserver/api_call.h"
#include "controlplane/apiserver/json_fields.h"
#include "kubeapi/field_selector.h"
#include "kubeapi/label_selector.h"
#include "kubeapi/meta_time.h"

namespace berth::controlplane::apiserver {
namespace {

// PodScheduled=True, as the binding registry sets it (UpdatePodCondition: the transition time moves
// only with the status), so a pod that was once Unschedulable doesn't keep saying so.
void markScheduled(Json& pod) {
  Json& conditions = pod["status"]["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  std::string now = kubeapi::formatTime(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  for (Json& c : conditions) {
    if (jsonString(c, "type") != "PodScheduled") continue;
    if (jsonString(c, "status") != "True") c["lastTransitionTime"] = now;
    c["status"] = "True";
    c.erase("reason");
    c.erase("message");
    return;
  }
  conditions.push_back({{"type", "PodScheduled"},
                        {"status", "True"},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", now}});
}

Json successBody(int code) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", Json::object()},
          {"status", "Success"},
          {"code", code}};
}

// The scale subresource's view of a workload (autoscaling/v1 Scale).
Json scaleOf(const Json& object) {
  Json meta = Json::object();
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (jsonField(object, "metadata").contains(f)) meta[f] = object["metadata"][f];
  }
  Json scale = {{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}, {"metadata", meta}};
  const Json& replicas = jsonField(jsonField(object, "spec"), "replicas");
  scale["spec"] = {{"replicas", replicas.is_number_integer() ? replicas : Json(1)}};
  const Json& statusReplicas = jsonField(jsonField(object, "status"), "replicas");
  scale["status"] = {{"replicas", statusReplicas.is_number_integer() ? statusReplicas : Json(0)}};
  auto selector =
      kubeapi::LabelSelector::fromLabelSelector(jsonField(jsonField(object, "spec"), "selector"));
  if (selector && !selector->empty()) scale["status"]["selector"] = selector->str();
  return scale;
}

}  // namespace

ApiResult<http::Response> ApiServer::review(Call& call) {
  if (call.info.resource == "bindings") return createSubresource(call);
  Json review = BERTH_TRY(decodeBody(call, *call.served));
  if (!authHooks_.review) {
    return apiFail(kubeapi::serviceUnavailableStatus("reviews are not configured"));
  }
  Json reviewed = BERTH_TRY(
      authHooks_.review(call.info.resource, call.user, call.info.namespace_, std::move(review)));
  return jsonResponse(201, reviewed.dump(), "application/json");
}

ApiResult<http::Response> ApiServer::createSubresource(Call& call) {
  const std::string& sub = call.info.subresource;
  const std::string& ns = call.info.namespace_;
  Json body = BERTH_TRY(decodeBody(call, *call.served));

  if (sub == "binding" || call.info.resource == "bindings") {
    ResourceStore* pods = registry_.store("", "pods");
    std::string podName =
        sub == "binding" ? call.info.name : jsonString(jsonField(body, "metadata"), "name");
    const Json& target = jsonField(body, "target");
    std::string node = jsonString(target, "name");
    if (node.empty()) {
      return apiFail(kubeapi::invalidStatus(
          {"", "Binding"}, podName, {FieldError::required(kubeapi::FieldPath("target.name"))}));
    }
    WriteOptions options;
    options.dryRun = call.dryRun;
    options.hooks = admission_.hooksFor(call.admissionAttributes("CREATE"));
    Json annotations = jsonField(jsonField(body, "metadata"), "annotations");
    BERTH_TRY(pods->update(
        ns, podName, "binding",
        [&](const Json* current) -> ApiResult<Json> {
          if (!current) return apiFail(kubeapi::notFoundStatus({"", "pods"}, podName));
          Json pod = *current;
          std::string assigned = jsonString(jsonField(pod, "spec"), "nodeName");
          if (!assigned.empty()) {
            return apiFail(
                kubeapi::conflictStatus({"", "pods/binding"}, podName,
                                        fmt::format("pod {} is already assigned to node {}",
                                                    podName, Json(assigned).dump())));
          }
          if (!jsonString(jsonField(pod, "metadata"), "deletionTimestamp").empty()) {
            return apiFail(
                kubeapi::conflictStatus({"", "pods/binding"}, podName,
                                        "pod is being deleted, cannot be assigned to a host"));
          }
          pod["spec"]["nodeName"] = node;
          markScheduled(pod);
          if (annotations.is_object()) {
            for (const auto& [k, v] : annotations.items())
              pod["metadata"]["annotations"][k] = v;
          }
          return pod;
        },
        options));
    return jsonResponse(201, successBody(201).dump(), "application/json");
  }

  if (sub == "eviction") {
    DeleteOptions options;
    options.dryRun = call.dryRun;
    const Json& del = jsonField(body, "deleteOptions");
    if (jsonField(del, "gracePeriodSeconds").is_number_integer()) {
      options.gracePeriodSeconds = del["gracePeriodSeconds"].get<std::int64_t>();
    }
    if (const Json& pre = jsonField(del, "preconditions"); pre.is_object()) {
      if (!jsonString(pre, "uid").empty()) options.preconditionUid = jsonString(pre, "uid");
      if (!jsonString(pre, "resourceVersion").empty()) {
        options.preconditionResourceVersion = jsonString(pre, "resourceVersion");
      }
    }
    options.admit = admission_.deleteHookFor(call.admissionAttributes("CREATE"));
    BERTH_TRY(call.store().remove(ns, call.info.name, options));
    return jsonResponse(201, successBody(201).dump(), "application/json");
  }

  if (sub == "token") {
    if (!authHooks_.issueToken) {
      return apiFail(kubeapi::serviceUnavailableStatus("token issuing is not configured"));
    }
    if (auto refused = admission_.admitOther(call.admissionAttributes("CREATE"), &body)) {
      return apiFail(*refused);
    }
    Json issued =
        BERTH_TRY(authHooks_.issueToken(ns, call.info.name, std::move(body), call.warnings));
    return jsonResponse(201, issued.dump(), "application/json");
  }
  return apiFail(
      kubeapi::methodNotSupportedStatus({call.info.apiGroup, call.info.resource}, "create"));
}

ApiResult<http::Response> ApiServer::serveSubresource(Call& call) {
  const std::string& sub = call.info.subresource;
  const std::string& verb = call.info.verb;
  const std::string& ns = call.info.namespace_;
  const std::string& name = call.info.name;

  if (sub == "scale") {
    if (verb == "get") {
      auto object = BERTH_TRY(call.store().get(ns, name));
      return jsonResponse(200, scaleOf(object->json()).dump(), "application/json");
    }
    Json input;
    if (verb == "update") input = BERTH_TRY(decodeBody(call, *call.served));
    WriteOptions options;
    options.dryRun = call.dryRun;
    options.hooks = admission_.hooksFor(call.admissionAttributes("UPDATE"));
    Json written = BERTH_TRY(call.store().update(
        ns, name, "",
        [&](const Json* current) -> ApiResult<Json> {
          if (!current) {
            return apiFail(kubeapi::notFoundStatus({call.info.apiGroup, call.info.resource}, name));
          }
          Json scale = verb == "patch" ? BERTH_TRY(applyPatch(call, bodyKindOf(*call.served),
                                                              scaleOf(*current), call.request.body))
                                       : input;
          const Json& replicas = jsonField(jsonField(scale, "spec"), "replicas");
          if (!replicas.is_number_integer() || replicas.get<std::int64_t>() < 0) {
            return apiFail(kubeapi::invalidStatus(
                {"autoscaling", "Scale"}, name,
                {FieldError::invalid(kubeapi::FieldPath("spec.replicas"), replicas,
                                     "must be greater than or equal to 0")}));
          }
          Json updated = *current;
          updated["spec"]["replicas"] = replicas;
          std::string version = jsonString(jsonField(scale, "metadata"), "resourceVersion");
          if (!version.empty()) updated["metadata"]["resourceVersion"] = version;
          // Recorded on the parent under subresource "scale", as upstream's ScaleHandler does.
          return recordUpdate(call, current, std::move(updated));
        },
        options));
    return jsonResponse(200, scaleOf(written).dump(), "application/json");
  }

  if (sub == "ephemeralcontainers") {
    if (verb == "get") {
      auto object = BERTH_TRY(call.store().get(ns, name));
      return jsonResponse(200, object->serialized(), "application/json");
    }
    Json pod = BERTH_TRY(decodeBody(call, *call.served));
    return writeUpdate(call, [&](const Json* current) -> ApiResult<Json> {
      if (!current) return apiFail(kubeapi::notFoundStatus({"", "pods"}, name));
      Json updated = *current;
      updated["spec"]["ephemeralContainers"] =
          jsonField(jsonField(pod, "spec"), "ephemeralContainers");
      return updated;
    });
  }

  return apiFail(kubeapi::methodNotSupportedStatus({call.info.apiGroup, call.info.resource}, verb));
}

}  // namespace berth::controlplane::apiserver
