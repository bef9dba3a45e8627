#include "kubeapi/pod_defaults.h"

#include "kubeapi/json_fields.h"

namespace berth::kubeapi {
namespace {

using Json = nlohmann::json;

void defaultContainers(Json& containers) {
  if (!containers.is_array()) return;
  for (Json& c : containers) {
    if (!c.is_object()) continue;
    if (!c.contains("imagePullPolicy"))
      c["imagePullPolicy"] = defaultPullPolicy(jsonString(c, "image"));
    if (!c.contains("terminationMessagePath")) c["terminationMessagePath"] = "/dev/termination-log";
    if (!c.contains("terminationMessagePolicy")) c["terminationMessagePolicy"] = "File";
    if (!c.contains("resources")) c["resources"] = Json::object();
    if (c.contains("ports") && c["ports"].is_array()) {
      for (Json& p : c["ports"]) {
        if (p.is_object() && !p.contains("protocol")) p["protocol"] = "TCP";
      }
    }
  }
}

}  // namespace

std::string defaultPullPolicy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  const std::size_t slash = image.rfind('/');
  const std::size_t colon = image.rfind(':');
  const bool hasTag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!hasTag || image.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void applyPodSpecDefaults(Json& spec) {
  if (!spec.is_object()) return;
  if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
  if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
  if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
  if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
  if (!spec.contains("securityContext")) spec["securityContext"] = Json::object();
  if (spec.contains("serviceAccountName") && !spec.contains("serviceAccount")) {
    spec["serviceAccount"] = spec["serviceAccountName"];
  }
  defaultContainers(spec["containers"]);
  if (spec.contains("initContainers")) defaultContainers(spec["initContainers"]);
}

void applyPodDefaults(Json& pod) {
  Json& spec = pod["spec"];
  if (!spec.is_object()) return;
  applyPodSpecDefaults(spec);
  // Only a Pod's containers request what they limit (a template's stay as written).
  for (const char* list : {"containers", "initContainers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (Json& c : spec[list]) {
      const Json& limits = jsonField(jsonField(c, "resources"), "limits");
      if (!limits.is_object()) continue;
      Json& requests = c["resources"]["requests"];
      if (!requests.is_object()) requests = Json::object();
      for (const auto& [name, value] : limits.items())
        if (!requests.contains(name)) requests[name] = value;
    }
  }
  if (!spec.contains("enableServiceLinks")) spec["enableServiceLinks"] = true;
  if (!spec.contains("preemptionPolicy")) spec["preemptionPolicy"] = "PreemptLowerPriority";
}

}  // namespace berth::kubeapi
