// Pods (pkg/registry/core/pod/strategy.go and the pod parts of apis/core/validation): defaults,
// the Pending status and QoS class at create, an immutable spec but for the few fields upstream
// lets change, graceful deletion for pods bound to a node.
#include <set>

#include <fmt/format.h>

#include "controlplane/apiserver/json_fields.h"
#include "controlplane/apiserver/pod_spec_rules.h"
#include "controlplane/apiserver/strategies.h"
#include "kubeapi/pod_defaults.h"
#include "kubeapi/pod_qos.h"
#include "kubeapi/validation.h"

namespace berth::controlplane::apiserver {
namespace {

using kubeapi::FieldPath;

void validateContainers(const Json& containers, const FieldPath& path, bool required,
                        std::set<std::string>& names, FieldErrors& errors) {
  if (!containers.is_array() || containers.empty()) {
    if (required) errors.push_back(FieldError::required(path));
    return;
  }
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const Json& c = containers[i];
    FieldPath at = path.index(i);
    std::string name = jsonString(c, "name");
    if (name.empty()) {
      errors.push_back(FieldError::required(at.child("name")));
    } else {
      for (const std::string& msg : kubeapi::isDNS1123Label(name)) {
        errors.push_back(FieldError::invalid(at.child("name"), name, msg));
      }
      if (!names.insert(name).second) {
        errors.push_back(FieldError::duplicate(at.child("name"), name));
      }
    }
    if (jsonString(c, "image").empty()) errors.push_back(FieldError::required(at.child("image")));
    std::string policy = jsonString(c, "imagePullPolicy");
    if (!policy.empty() && policy != "Always" && policy != "IfNotPresent" && policy != "Never") {
      errors.push_back(FieldError::notSupported(at.child("imagePullPolicy"), policy,
                                                {"Always", "IfNotPresent", "Never"}));
    }
    const Json& ports = jsonField(c, "ports");
    if (ports.is_array()) {
      for (std::size_t p = 0; p < ports.size(); ++p) {
        const Json& port = ports[p];
        const Json& number = jsonField(port, "containerPort");
        if (!number.is_number_integer() || number.get<std::int64_t>() < 1 ||
            number.get<std::int64_t>() > 65535) {
          errors.push_back(FieldError::invalid(at.child("ports").index(p).child("containerPort"),
                                               number.is_null() ? Json(0) : number,
                                               "must be between 1 and 65535, inclusive"));
        }
      }
    }
  }
}

// The spec with what an update may change set to the new values, for comparison.
Json mutableFieldsFrom(Json oldSpec, const Json& newSpec) {
  for (const char* list : {"containers", "initContainers"}) {
    Json& o = oldSpec[list];
    const Json& n = jsonField(newSpec, list);
    if (!o.is_array() || !n.is_array() || o.size() != n.size()) continue;
    for (std::size_t i = 0; i < o.size(); ++i) {
      if (n[i].is_object() && n[i].contains("image")) o[i]["image"] = n[i]["image"];
    }
  }
  if (oldSpec.is_object() && oldSpec["initContainers"].is_null()) oldSpec.erase("initContainers");
  for (const char* field : {"activeDeadlineSeconds", "tolerations", "schedulingGates"}) {
    if (newSpec.contains(field)) {
      oldSpec[field] = newSpec[field];
    } else {
      oldSpec.erase(field);
    }
  }
  // terminationGracePeriodSeconds may go from negative to 1.
  const Json& oldGrace = jsonField(oldSpec, "terminationGracePeriodSeconds");
  if (oldGrace.is_number_integer() && oldGrace.get<std::int64_t>() < 0 &&
      jsonField(newSpec, "terminationGracePeriodSeconds") == Json(1)) {
    oldSpec["terminationGracePeriodSeconds"] = 1;
  }
  return oldSpec;
}

class PodStrategy final : public Strategy {
 public:
  bool hasStatusSubresource() const override { return true; }

  std::vector<std::string> fieldLabels() const override {
    return {"spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName"};
  }
  void addSelectableFields(const Json& pod, FieldSet& fields) const override {
    const Json& spec = jsonField(pod, "spec");
    const Json& status = jsonField(pod, "status");
    fields["spec.nodeName"] = jsonString(spec, "nodeName");
    fields["spec.restartPolicy"] = jsonString(spec, "restartPolicy");
    fields["spec.schedulerName"] = jsonString(spec, "schedulerName");
    fields["spec.serviceAccountName"] = jsonString(spec, "serviceAccountName");
    fields["spec.hostNetwork"] = jsonField(spec, "hostNetwork") == Json(true) ? "true" : "false";
    fields["status.phase"] = jsonString(status, "phase");
    fields["status.podIP"] = jsonString(status, "podIP");
    fields["status.nominatedNodeName"] = jsonString(status, "nominatedNodeName");
    const Json& ips = jsonField(status, "podIPs");
    fields["status.podIPs"] =
        ips.is_array() && !ips.empty() ? jsonString(ips[0], "ip") : std::string();
  }

  void applyDefaults(Json& pod) const override { kubeapi::applyPodDefaults(pod); }

  void prepareForCreate(Json& pod) const override {
    pod["status"] = {{"phase", "Pending"},
                     {"qosClass", kubeapi::podQosClass(jsonField(pod, "spec"))}};
  }

  FieldErrors validate(const Json& pod) const override {
    return validatePodSpec(jsonField(pod, "spec"), FieldPath("spec"));
  }

  FieldErrors validateUpdate(const Json& pod, const Json& old) const override {
    FieldErrors errors = validate(pod);
    const Json& spec = jsonField(pod, "spec");
    const Json& oldSpec = jsonField(old, "spec");
    if (mutableFieldsFrom(oldSpec, spec) != spec) {
      errors.push_back(FieldError::forbidden(
          FieldPath("spec"),
          "pod updates may not change fields other than `spec.containers[*].image`,"
          "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
          "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to "
          "be set to 1 if it was previously negative)"));
    }
    return errors;
  }

  void prepareForStatusUpdate(Json& pod, const Json& old) const override {
    // The node a pod runs on is the binding's to set, never a status writer's.
    pod["spec"] = jsonField(old, "spec");
  }

  std::optional<std::int64_t> defaultGracePeriodSeconds(const Json& pod) const override {
    const Json& grace = jsonField(jsonField(pod, "spec"), "terminationGracePeriodSeconds");
    return grace.is_number_integer() ? grace.get<std::int64_t>() : 30;
  }
  bool deleteWaitsForGrace(const Json& pod, std::int64_t grace) const override {
    if (grace <= 0) return false;
    if (jsonString(jsonField(pod, "spec"), "nodeName").empty()) return false;
    std::string phase = jsonString(jsonField(pod, "status"), "phase");
    return phase != "Succeeded" && phase != "Failed";
  }
};

}  // namespace

FieldErrors validatePodSpec(const Json& spec, const FieldPath& path) {
  FieldErrors errors;
  std::set<std::string> names;
  validateContainers(jsonField(spec, "containers"), path.child("containers"), true, names, errors);
  validateContainers(jsonField(spec, "initContainers"), path.child("initContainers"), false, names,
                     errors);
  requireEnum(spec, path, "restartPolicy", {"Always", "OnFailure", "Never"}, false, errors);
  requireEnum(spec, path, "dnsPolicy",
              {"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"}, false, errors);
  const Json& grace = jsonField(spec, "terminationGracePeriodSeconds");
  if (!grace.is_null() && !grace.is_number_integer()) {
    errors.push_back(FieldError::invalid(path.child("terminationGracePeriodSeconds"), grace,
                                         "must be an integer"));
  }
  return errors;
}

const Strategy& podStrategy() {
  static const PodStrategy strategy;
  return strategy;
}

}  // namespace berth::controlplane::apiserver
