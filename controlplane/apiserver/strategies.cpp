// The small strategies: each type's create/update rules as its upstream strategy.go has them,
// as far as berth-server serves the type. Pods are in pod_strategy.cpp, Services' address
// allocation in service_allocator.cpp.
#include "controlplane/apiserver/strategies.h"
#include "controlplane/apiserver/json_fields.h"
#include "controlplane/apiserver/pod_spec_rules.h"

#include <set>

#include "common/base64.h"
#include "kubeapi/validation.h"

namespace berth::controlplane::apiserver {
namespace {

using kubeapi::FieldPath;

void immutable(const Json& object, const Json& old, const char* parent, const char* field,
               FieldErrors& errors) {
  const Json& now = jsonField(jsonField(object, parent), field);
  const Json& before = jsonField(jsonField(old, parent), field);
  if (now != before) {
    errors.push_back(
        FieldError::invalid(FieldPath(parent).child(field), now, "field is immutable"));
  }
}

class DefaultStrategy final : public Strategy {};

class StatusStrategy : public Strategy {
 public:
  bool hasStatusSubresource() const override { return true; }
};

class NodeStrategy final : public StatusStrategy {
 public:
  std::vector<std::string> fieldLabels() const override { return {"spec.unschedulable"}; }
  void addSelectableFields(const Json& node, FieldSet& fields) const override {
    fields["spec.unschedulable"] =
        jsonField(jsonField(node, "spec"), "unschedulable") == Json(true) ? "true" : "false";
  }
  // The kubelet registers its node with its status: create keeps it (nodeStrategy upstream).
  FieldErrors validateUpdate(const Json& node, const Json& old) const override {
    FieldErrors errors;
    // podCIDR(s) are set once (by node IPAM) and never changed.
    for (const char* field : {"podCIDR", "podCIDRs"}) {
      const Json& before = jsonField(jsonField(old, "spec"), field);
      if (!before.is_null() && jsonField(jsonField(node, "spec"), field) != before) {
        errors.push_back(
            FieldError::forbidden(FieldPath("spec").child(field),
                                  "node updates may not change podCIDR except from \"\" to valid"));
      }
    }
    return errors;
  }
};

class NamespaceStrategy final : public StatusStrategy {
 public:
  NameRule nameRule() const override { return NameRule::kLabel; }
  std::vector<std::string> fieldLabels() const override { return {"status.phase"}; }
  void addSelectableFields(const Json& ns, FieldSet& fields) const override {
    fields["status.phase"] = jsonString(jsonField(ns, "status"), "phase");
  }
  void applyDefaults(Json& ns) const override {
    // The kubernetes.io/metadata.name label always names the namespace (as upstream defaults it).
    std::string name = jsonString(jsonField(ns, "metadata"), "name");
    if (!name.empty()) ns["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
  }
  void prepareForCreate(Json& ns) const override {
    ns["status"] = {{"phase", "Active"}};
    Json& finalizers = ns["spec"]["finalizers"];
    if (!finalizers.is_array()) finalizers = Json::array();
    bool has = false;
    for (const Json& f : finalizers)
      has = has || f == "kubernetes";
    if (!has) finalizers.push_back("kubernetes");
  }
  void prepareForUpdate(Json& ns, const Json& old) const override {
    // spec.finalizers change only through /finalize.
    ns["spec"] = jsonField(old, "spec");
  }
  bool deferDelete(Json& ns) const override {
    const Json& finalizers = jsonField(jsonField(ns, "spec"), "finalizers");
    if (!finalizers.is_array() || finalizers.empty()) return false;
    ns["status"]["phase"] = "Terminating";
    return true;
  }
};

class ServiceStrategy final : public StatusStrategy {
 public:
  NameRule nameRule() const override { return NameRule::kLabel; }
  std::vector<std::string> fieldLabels() const override { return {"spec.clusterIP", "spec.type"}; }
  void addSelectableFields(const Json& svc, FieldSet& fields) const override {
    fields["spec.clusterIP"] = jsonString(jsonField(svc, "spec"), "clusterIP");
    fields["spec.type"] = jsonString(jsonField(svc, "spec"), "type");
  }
  void applyDefaults(Json& svc) const override {
    Json& spec = svc["spec"];
    if (!spec.is_object()) return;
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    std::string type = jsonString(spec, "type");
    if (type == "ExternalName") return;
    if (!spec.contains("sessionAffinity")) spec["sessionAffinity"] = "None";
    if (!spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
    if ((type == "NodePort" || type == "LoadBalancer") && !spec.contains("externalTrafficPolicy")) {
      spec["externalTrafficPolicy"] = "Cluster";
    }
    if (spec.contains("ports") && spec["ports"].is_array()) {
      for (Json& p : spec["ports"]) {
        if (!p.is_object()) continue;
        if (!p.contains("protocol")) p["protocol"] = "TCP";
        if (!p.contains("targetPort") && p.contains("port")) p["targetPort"] = p["port"];
      }
    }
  }
  void prepareForCreate(Json& svc) const override {
    svc["status"] = {{"loadBalancer", Json::object()}};
  }
  FieldErrors validate(const Json& svc) const override {
    FieldErrors errors;
    const Json& spec = jsonField(svc, "spec");
    FieldPath specPath("spec");
    requireEnum(spec, specPath, "type", {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort"},
                false, errors);
    std::string type = jsonString(spec, "type");
    if (type == "ExternalName") {
      if (jsonString(spec, "externalName").empty()) {
        errors.push_back(FieldError::required(specPath.child("externalName")));
      }
      return errors;
    }
    bool headless = jsonString(spec, "clusterIP") == "None";
    const Json& ports = jsonField(spec, "ports");
    if ((!ports.is_array() || ports.empty()) && !headless) {
      errors.push_back(FieldError::required(specPath.child("ports")));
    }
    if (ports.is_array()) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < ports.size(); ++i) {
        FieldPath at = specPath.child("ports").index(i);
        const Json& port = jsonField(ports[i], "port");
        if (!port.is_number_integer() || port.get<std::int64_t>() < 1 ||
            port.get<std::int64_t>() > 65535) {
          errors.push_back(FieldError::invalid(at.child("port"), port.is_null() ? Json(0) : port,
                                               "must be between 1 and 65535, inclusive"));
        }
        std::string name = jsonString(ports[i], "name");
        if (ports.size() > 1 && name.empty()) {
          errors.push_back(FieldError::required(at.child("name")));
        } else if (!name.empty() && !names.insert(name).second) {
          errors.push_back(FieldError::duplicate(at.child("name"), name));
        }
        requireEnum(ports[i], at, "protocol", {"SCTP", "TCP", "UDP"}, false, errors);
      }
    }
    requireEnum(spec, specPath, "sessionAffinity", {"ClientIP", "None"}, false, errors);
    return errors;
  }
  FieldErrors validateUpdate(const Json& svc, const Json& old) const override {
    FieldErrors errors = validate(svc);
    // A cluster IP, once given, stays (unless the type becomes ExternalName).
    if (jsonString(jsonField(svc, "spec"), "type") != "ExternalName" &&
        !jsonString(jsonField(old, "spec"), "clusterIP").empty()) {
      immutable(svc, old, "spec", "clusterIP", errors);
    }
    return errors;
  }
};

class EndpointsStrategy final : public Strategy {
 public:
  bool allowCreateOnUpdate() const override { return true; }
};

class EndpointSliceStrategy final : public Strategy {
 public:
  bool tracksGeneration() const override { return true; }
  FieldErrors validate(const Json& slice) const override {
    FieldErrors errors;
    const Json& type = jsonField(slice, "addressType");
    if (type.is_null()) {
      errors.push_back(FieldError::required(FieldPath("addressType")));
    } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
      errors.push_back(
          FieldError::notSupported(FieldPath("addressType"), type, {"FQDN", "IPv4", "IPv6"}));
    }
    return errors;
  }
  FieldErrors validateUpdate(const Json& slice, const Json& old) const override {
    FieldErrors errors = validate(slice);
    if (jsonField(slice, "addressType") != jsonField(old, "addressType")) {
      errors.push_back(FieldError::invalid(FieldPath("addressType"),
                                           jsonField(slice, "addressType"), "field is immutable"));
    }
    return errors;
  }
};

class EventStrategy final : public Strategy {
 public:
  bool allowCreateOnUpdate() const override { return true; }
  std::vector<std::string> fieldLabels() const override {
    return {"involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type"};
  }
  void addSelectableFields(const Json& ev, FieldSet& fields) const override {
    // core/v1 names the object involvedObject, events.k8s.io/v1 regarding: both select alike.
    const Json& involved = ev.contains("involvedObject") ? jsonField(ev, "involvedObject")
                                                         : jsonField(ev, "regarding");
    for (const char* f :
         {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"}) {
      fields[std::string("involvedObject.") + f] = jsonString(involved, f);
    }
    fields["reason"] = jsonString(ev, "reason");
    fields["reportingComponent"] = ev.contains("reportingComponent")
                                       ? jsonString(ev, "reportingComponent")
                                       : jsonString(ev, "reportingController");
    fields["source"] = jsonString(jsonField(ev, "source"), "component");
    fields["type"] = jsonString(ev, "type");
  }
};

class SecretStrategy final : public Strategy {
 public:
  std::vector<std::string> fieldLabels() const override { return {"type"}; }
  void addSelectableFields(const Json& secret, FieldSet& fields) const override {
    fields["type"] = jsonString(secret, "type");
  }
  void applyDefaults(Json& secret) const override {
    if (!secret.contains("type")) secret["type"] = "Opaque";
    // stringData is write-only: merged into data (its keys win), as the v1 conversion does.
    auto stringData = secret.find("stringData");
    if (stringData == secret.end()) return;
    if (stringData->is_object()) {
      Json& data = secret["data"];
      if (!data.is_object()) data = Json::object();
      for (const auto& [key, value] : stringData->items()) {
        if (value.is_string()) data[key] = base64Encode(value.get<std::string>());
      }
    }
    secret.erase("stringData");
  }
  FieldErrors validateUpdate(const Json& secret, const Json& old) const override {
    FieldErrors errors;
    if (jsonField(secret, "type") != jsonField(old, "type")) {
      errors.push_back(
          FieldError::invalid(FieldPath("type"), jsonField(secret, "type"), "field is immutable"));
    }
    if (jsonField(old, "immutable") == Json(true)) {
      if (jsonField(secret, "data") != jsonField(old, "data")) {
        errors.push_back(
            FieldError::forbidden(FieldPath("data"), "field is immutable when `immutable` is set"));
      }
    }
    return errors;
  }
};

class CsrStrategy final : public StatusStrategy {
 public:
  // ValidateCertificateRequestName accepts any name; the store's key still needs a path
  // segment. The kubelet's bootstrap names its CSR node-csr-<base64url>, upper case and all.
  NameRule nameRule() const override { return NameRule::kPathSegment; }
  void prepareForCreate(Json& csr) const override { csr.erase("status"); }
  FieldErrors validate(const Json& csr) const override {
    FieldErrors errors;
    const Json& spec = jsonField(csr, "spec");
    FieldPath specPath("spec");
    if (jsonString(spec, "request").empty()) {
      errors.push_back(FieldError::required(specPath.child("request")));
    }
    if (jsonString(spec, "signerName").empty()) {
      errors.push_back(FieldError::required(specPath.child("signerName")));
    }
    return errors;
  }
  FieldErrors validateUpdate(const Json& csr, const Json& old) const override {
    FieldErrors errors;
    if (jsonField(csr, "spec") != jsonField(old, "spec")) {
      errors.push_back(FieldError::forbidden(FieldPath("spec"), "updates to spec are forbidden"));
    }
    return errors;
  }
};

class RbacStrategy final : public Strategy {
 public:
  NameRule nameRule() const override { return NameRule::kPathSegment; }
  FieldErrors validateUpdate(const Json& object, const Json& old) const override {
    FieldErrors errors;
    // A binding's roleRef can't be changed (delete and recreate instead).
    if (old.contains("roleRef") && jsonField(object, "roleRef") != jsonField(old, "roleRef")) {
      errors.push_back(FieldError::invalid(FieldPath("roleRef"), jsonField(object, "roleRef"),
                                           "cannot change roleRef"));
    }
    return errors;
  }
};

}  // namespace

void requireEnum(const Json& object, const FieldPath& path, const char* field,
                 const std::vector<std::string>& allowed, bool required, FieldErrors& errors) {
  const Json& v = jsonField(object, field);
  if (v.is_null()) {
    if (required) errors.push_back(FieldError::required(path.child(field)));
    return;
  }
  std::string value = v.is_string() ? v.get<std::string>() : v.dump();
  for (const auto& a : allowed) {
    if (a == value) return;
  }
  errors.push_back(FieldError::notSupported(path.child(field), v, allowed));
}

const Strategy& defaultStrategy() {
  static const DefaultStrategy s;
  return s;
}
#define BERTH_STRATEGY(fn, type) \
  const Strategy& fn() {         \
    static const type s;         \
    return s;                    \
  }
BERTH_STRATEGY(nodeStrategy, NodeStrategy)
BERTH_STRATEGY(namespaceStrategy, NamespaceStrategy)
BERTH_STRATEGY(serviceStrategy, ServiceStrategy)
BERTH_STRATEGY(endpointsStrategy, EndpointsStrategy)
BERTH_STRATEGY(endpointSliceStrategy, EndpointSliceStrategy)
BERTH_STRATEGY(eventStrategy, EventStrategy)
BERTH_STRATEGY(secretStrategy, SecretStrategy)
BERTH_STRATEGY(statusStrategy, StatusStrategy)
BERTH_STRATEGY(csrStrategy, CsrStrategy)
BERTH_STRATEGY(rbacStrategy, RbacStrategy)
#undef BERTH_STRATEGY

}  // namespace berth::controlplane::apiserver
