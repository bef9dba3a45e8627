#include "controlplane/auth/node_restriction.h"

#include <set>

#include <fmt/ranges.h>

#include "common/base64.h"
#include "controlplane/auth/certificate_authority.h"
#include "controlplane/auth/json_util.h"
#include "controlplane/auth/node_authorizer.h"
#include "controlplane/auth/pod_references.h"

namespace berth::controlplane::auth {

namespace {

constexpr std::string_view kMirrorPodAnnotation = "kubernetes.io/config.mirror";
constexpr std::string_view kNodeRestrictionLabelNamespace = "node-restriction.kubernetes.io";

std::string quotedText(std::string_view text) {
  return nlohmann::json(text).dump();
}

const char* operationName(AdmissionOperation operation) {
  switch (operation) {
    case AdmissionOperation::kCreate:
      return "CREATE";
    case AdmissionOperation::kUpdate:
      return "UPDATE";
    case AdmissionOperation::kDelete:
      return "DELETE";
    case AdmissionOperation::kConnect:
      return "CONNECT";
  }
  return "";
}

bool isEmpty(const nlohmann::json* value) {
  return value == nullptr || value->is_null() || (value->is_array() && value->empty()) ||
         (value->is_object() && value->empty());
}

// apiequality.Semantic.DeepEqual for our purposes: absent, null and empty are the same.
bool semanticEqual(const nlohmann::json* a, const nlohmann::json* b) {
  if (isEmpty(a) || isEmpty(b)) return isEmpty(a) && isEmpty(b);
  return *a == *b;
}

std::string labelNamespace(std::string_view key) {
  auto slash = key.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(key.substr(0, slash));
}

bool inNamespace(std::string_view ns, std::string_view domain) {
  return ns == domain || (ns.size() > domain.size() && ns.ends_with(domain) &&
                          ns[ns.size() - domain.size() - 1] == '.');
}

// The labels a kubelet may set on its own Node (k8s.io/kubelet's IsKubeletLabel).
bool isKubeletLabel(std::string_view key) {
  static const std::set<std::string, std::less<>> kLabels = {
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
      "topology.kubernetes.io/region",
      "failure-domain.beta.kubernetes.io/zone",
      "failure-domain.beta.kubernetes.io/region",
      "beta.kubernetes.io/instance-type",
      "node.kubernetes.io/instance-type",
      "kubernetes.io/os",
      "kubernetes.io/arch",
      "beta.kubernetes.io/os",
      "beta.kubernetes.io/arch",
  };
  if (kLabels.contains(key)) return true;
  const std::string ns = labelNamespace(key);
  return inNamespace(ns, "kubelet.kubernetes.io") || inNamespace(ns, "node.kubernetes.io");
}

std::set<std::string> modifiedLabels(const nlohmann::json* a, const nlohmann::json* b) {
  static const nlohmann::json kNone = nlohmann::json::object();
  const nlohmann::json& left = a != nullptr && a->is_object() ? *a : kNone;
  const nlohmann::json& right = b != nullptr && b->is_object() ? *b : kNone;
  std::set<std::string> keys;
  for (const auto& [key, value] : left.items()) {
    if (!right.contains(key) || right[key] != value) keys.insert(key);
  }
  for (const auto& [key, value] : right.items()) {
    if (!left.contains(key) || left[key] != value) keys.insert(key);
  }
  return keys;
}

std::set<std::string> forbiddenLabels(const std::set<std::string>& modified) {
  std::set<std::string> forbidden;
  for (const auto& key : modified) {
    const std::string ns = labelNamespace(key);
    if (inNamespace(ns, kNodeRestrictionLabelNamespace)) forbidden.insert(key);
    const bool kubernetes = inNamespace(ns, "kubernetes.io") || inNamespace(ns, "k8s.io");
    if (kubernetes && !isKubeletLabel(key)) forbidden.insert(key);
  }
  return forbidden;
}

// The paths where two objects differ, for the PVC status message.
void differences(const nlohmann::json& a, const nlohmann::json& b, const std::string& path,
                 std::vector<std::string>& out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [key, value] : a.items())
      keys.insert(key);
    for (const auto& [key, value] : b.items())
      keys.insert(key);
    for (const auto& key : keys) {
      const nlohmann::json* left = json::member(a, key);
      const nlohmann::json* right = json::member(b, key);
      if (semanticEqual(left, right)) continue;
      const std::string child = path.empty() ? key : path + "." + key;
      if (left != nullptr && right != nullptr) {
        differences(*left, *right, child, out);
      } else {
        out.push_back(child);
      }
    }
    return;
  }
  if (a != b) out.push_back(path);
}

class NodeRestriction {
 public:
  NodeRestriction(const AdmissionRequest& request, const storage::ObjectLookup& lookup,
                  std::string node)
      : request_(request), lookup_(lookup), node_(std::move(node)) {}

  Status admit() const;

 private:
  const nlohmann::json& object() const {
    static const nlohmann::json kNone = nlohmann::json::object();
    return request_.object != nullptr ? *request_.object : kNone;
  }
  const nlohmann::json& oldObject() const {
    static const nlohmann::json kNone = nlohmann::json::object();
    return request_.oldObject != nullptr ? *request_.oldObject : kNone;
  }

  // admission.NewForbidden: `<resource>[.<group>] "<name>" is forbidden: <why>`, the name being
  // the request's, else the object's name or generateName, else "Unknown".
  std::unexpected<Error> forbidden(std::string_view why) const {
    std::string name = request_.name;
    if (name.empty() && request_.object != nullptr) {
      name = json::meta(*request_.object, "name");
      if (name.empty()) name = json::meta(*request_.object, "generateName");
    }
    if (name.empty()) name = "Unknown";
    std::string resource = request_.resource;
    if (!request_.group.empty()) resource += "." + request_.group;
    return fail(Code::kPermissionDenied, "{} {} is forbidden: {}", resource, quotedText(name), why);
  }

  // The name of the object acted on: on create, the submitted object's own.
  std::string targetName() const {
    return request_.operation == AdmissionOperation::kCreate ? json::meta(object(), "name")
                                                             : request_.name;
  }

  Result<storage::ObjectPtr> existingPod(const std::string& name) const {
    auto pod = lookup_.get("", "pods", request_.namespace_, name);
    if (!pod) return fail(Code::kNotFound, "pod {} not found", quotedText(name));
    return pod;
  }

  Status pod() const;
  Status podCreate() const;
  Status podStatus() const;
  Status podEviction() const;
  Status claimStatus() const;
  Status node() const;
  Status serviceAccount() const;
  Status lease() const;
  Status csiNode() const;
  Status certificateSigningRequest() const;

  const AdmissionRequest& request_;
  const storage::ObjectLookup& lookup_;
  std::string node_;
};

Status NodeRestriction::admit() const {
  if (node_.empty()) {
    return forbidden(
        fmt::format("could not determine node from user {}", quotedText(request_.user.name)));
  }
  const std::string& group = request_.group;
  const std::string& resource = request_.resource;
  if (group.empty() && resource == "pods") {
    if (request_.subresource.empty()) return pod();
    if (request_.subresource == "status") return podStatus();
    if (request_.subresource == "eviction") return podEviction();
    return forbidden(
        fmt::format("unexpected pod subresource {}, only 'status' and 'eviction' are allowed",
                    quotedText(request_.subresource)));
  }
  if (group.empty() && resource == "nodes") return node();
  if (group.empty() && resource == "persistentvolumeclaims") {
    if (request_.subresource == "status") return claimStatus();
    return forbidden("may only update PVC status");
  }
  if (group.empty() && resource == "serviceaccounts") return serviceAccount();
  if (group == "coordination.k8s.io" && resource == "leases") return lease();
  if (group == "storage.k8s.io" && resource == "csinodes") return csiNode();
  if (group == "certificates.k8s.io" && resource == "certificatesigningrequests") {
    return certificateSigningRequest();
  }
  return {};
}

Status NodeRestriction::pod() const {
  switch (request_.operation) {
    case AdmissionOperation::kCreate:
      return podCreate();
    case AdmissionOperation::kDelete: {
      auto pod = BERTH_TRY(existingPod(request_.name));
      if (json::stringAt(pod->json(), {"spec", "nodeName"}) != node_) {
        return forbidden(fmt::format(
            "node {} can only delete pods with spec.nodeName set to itself", quotedText(node_)));
      }
      return {};
    }
    default:
      return forbidden(
          fmt::format("unexpected operation {}, node {} can only create and delete "
                      "mirror pods",
                      quotedText(operationName(request_.operation)), quotedText(node_)));
  }
}

Status NodeRestriction::podCreate() const {
  const nlohmann::json& pod = object();
  const std::string node = quotedText(node_);
  if (json::path(pod, {"metadata", "annotations", kMirrorPodAnnotation}) == nullptr) {
    return forbidden(
        fmt::format("pod does not have {} annotation, node {} can only create mirror "
                    "pods",
                    quotedText(kMirrorPodAnnotation), node));
  }
  if (json::stringAt(pod, {"spec", "nodeName"}) != node_) {
    return forbidden(
        fmt::format("node {} can only create pods with spec.nodeName set to itself", node));
  }
  static const nlohmann::json kNone = nlohmann::json::object();
  const auto* meta = json::member(pod, "metadata");
  const nlohmann::json& owners = json::array(meta != nullptr ? *meta : kNone, "ownerReferences");
  if (owners.size() > 1) {
    return forbidden(fmt::format(
        "node {} can only create pods with a single owner reference set to itself", node));
  }
  if (owners.empty()) {
    return forbidden(
        fmt::format("node {} can only create pods with an owner reference set to itself", node));
  }
  const nlohmann::json& owner = owners[0];
  if (json::string(owner, "apiVersion") != "v1" || json::string(owner, "kind") != "Node" ||
      json::string(owner, "name") != node_) {
    return forbidden(
        fmt::format("node {} can only create pods with an owner reference set to itself", node));
  }
  if (!json::boolean(owner, "controller")) {
    return forbidden(fmt::format(
        "node {} can only create pods with a controller owner reference set to itself", node));
  }
  if (json::boolean(owner, "blockOwnerDeletion")) {
    return forbidden(
        fmt::format("node {} must not set blockOwnerDeletion on an owner reference", node));
  }
  auto nodeObject = lookup_.get("", "nodes", "", node_);
  if (!nodeObject) return fail(Code::kNotFound, "node {} not found", node);
  const std::string uid = json::meta(nodeObject->json(), "uid");
  if (json::string(owner, "uid") != uid) {
    return forbidden(fmt::format("node {} UID mismatch: expected {} got {}", node_,
                                 json::string(owner, "uid"), uid));
  }
  // A mirror pod may refer to no other API object.
  if (!json::stringAt(pod, {"spec", "serviceAccountName"}).empty()) {
    return forbidden(
        fmt::format("node {} can not create pods that reference a service account", node));
  }
  if (!podSecretNames(pod).empty()) {
    return forbidden(fmt::format("node {} can not create pods that reference secrets", node));
  }
  if (!podConfigMapNames(pod).empty()) {
    return forbidden(fmt::format("node {} can not create pods that reference configmaps", node));
  }
  const auto* spec = json::member(pod, "spec");
  const nlohmann::json& volumes = json::array(spec != nullptr ? *spec : kNone, "volumes");
  for (const auto& volume : volumes) {
    if (const auto* projected = json::member(volume, "projected")) {
      for (const auto& source : json::array(*projected, "sources")) {
        if (json::member(source, "clusterTrustBundle") != nullptr) {
          return forbidden(
              fmt::format("node {} can not create pods that reference clustertrustbundles", node));
        }
      }
    }
  }
  for (const auto& volume : volumes) {
    if (json::member(volume, "persistentVolumeClaim") != nullptr) {
      return forbidden(
          fmt::format("node {} can not create pods that reference persistentvolumeclaims", node));
    }
  }
  return {};
}

Status NodeRestriction::podStatus() const {
  if (request_.operation != AdmissionOperation::kUpdate) {
    return forbidden(
        fmt::format("unexpected operation {}", quotedText(operationName(request_.operation))));
  }
  if (json::stringAt(oldObject(), {"spec", "nodeName"}) != node_) {
    return forbidden(
        fmt::format("node {} can only update pod status for pods with spec.nodeName set to itself",
                    quotedText(node_)));
  }
  if (!semanticEqual(json::path(oldObject(), {"metadata", "labels"}),
                     json::path(object(), {"metadata", "labels"}))) {
    return forbidden(
        fmt::format("node {} cannot update labels through pod status", quotedText(node_)));
  }
  // Only the claim names matter, as upstream compares them.
  auto claims = [](const nlohmann::json& pod) {
    nlohmann::json names = nlohmann::json::array();
    if (const auto* status = json::member(pod, "status")) {
      for (const auto& claim : json::array(*status, "resourceClaimStatuses")) {
        names.push_back(
            {json::string(claim, "name"), json::member(claim, "resourceClaimName") != nullptr
                                              ? json::member(claim, "resourceClaimName")->dump()
                                              : "null"});
      }
    }
    return names;
  };
  if (claims(oldObject()) != claims(object())) {
    return forbidden(
        fmt::format("node {} cannot update resource claim statues", quotedText(node_)));
  }
  return {};
}

Status NodeRestriction::podEviction() const {
  if (request_.operation != AdmissionOperation::kCreate) {
    return forbidden(fmt::format("unexpected operation {}", operationName(request_.operation)));
  }
  std::string podName = request_.name;
  if (podName.empty()) podName = json::meta(object(), "name");
  if (podName.empty()) return forbidden("could not determine pod from request data");
  auto pod = BERTH_TRY(existingPod(podName));
  if (json::stringAt(pod->json(), {"spec", "nodeName"}) != node_) {
    return forbidden(
        fmt::format("node {} can only evict pods with spec.nodeName set to itself", node_));
  }
  return {};
}

Status NodeRestriction::claimStatus() const {
  if (request_.operation != AdmissionOperation::kUpdate) {
    return forbidden(
        fmt::format("unexpected operation {}", quotedText(operationName(request_.operation))));
  }
  auto stripped = [](nlohmann::json claim) {
    if (!claim.is_object()) claim = nlohmann::json::object();
    if (claim["metadata"].is_object()) {
      claim["metadata"].erase("resourceVersion");
      claim["metadata"].erase("managedFields");
    }
    if (claim["status"].is_object()) {
      // RecoverVolumeExpansionFailure (beta in 1.32) lets the kubelet set the allocated fields.
      for (const char* field :
           {"capacity", "conditions", "allocatedResourceStatuses", "allocatedResources"}) {
        claim["status"].erase(field);
      }
    }
    return claim;
  };
  const nlohmann::json before = stripped(oldObject());
  const nlohmann::json after = stripped(object());
  std::vector<std::string> changed;
  differences(before, after, "", changed);
  if (!changed.empty()) {
    return forbidden(
        fmt::format("node {} is not allowed to update fields other than status.quantity and "
                    "status.conditions: changed {}",
                    quotedText(node_), fmt::join(changed, ", ")));
  }
  return {};
}

Status NodeRestriction::node() const {
  if (request_.name != node_) {
    return forbidden(fmt::format("node {} is not allowed to modify node {}", quotedText(node_),
                                 quotedText(request_.name)));
  }
  if (request_.operation == AdmissionOperation::kCreate) {
    if (!isEmpty(json::path(object(), {"spec", "configSource"}))) {
      return forbidden(fmt::format(
          "node {} is not allowed to create pods with a non-nil configSource", quotedText(node_)));
    }
    auto labels =
        forbiddenLabels(modifiedLabels(json::path(object(), {"metadata", "labels"}), nullptr));
    if (!labels.empty()) {
      return forbidden(fmt::format("node {} is not allowed to set the following labels: {}",
                                   quotedText(node_), fmt::join(labels, ", ")));
    }
  }
  if (request_.operation == AdmissionOperation::kUpdate) {
    const auto* configSource = json::path(object(), {"spec", "configSource"});
    if (!isEmpty(configSource) &&
        !semanticEqual(configSource, json::path(oldObject(), {"spec", "configSource"}))) {
      return forbidden(
          fmt::format("node {} is not allowed to update configSource to a new non-nil configSource",
                      quotedText(node_)));
    }
    if (!semanticEqual(json::path(object(), {"spec", "taints"}),
                       json::path(oldObject(), {"spec", "taints"}))) {
      return forbidden(fmt::format("node {} is not allowed to modify taints", quotedText(node_)));
    }
    auto labels = forbiddenLabels(modifiedLabels(json::path(object(), {"metadata", "labels"}),
                                                 json::path(oldObject(), {"metadata", "labels"})));
    if (!labels.empty()) {
      return forbidden(fmt::format("is not allowed to modify labels: {}", fmt::join(labels, ", ")));
    }
  }
  return {};
}

Status NodeRestriction::serviceAccount() const {
  if (request_.operation != AdmissionOperation::kCreate || request_.subresource != "token") {
    return {};
  }
  // A node's tokens must be bound to a pod scheduled on it.
  const auto* ref = json::path(object(), {"spec", "boundObjectRef"});
  if (ref == nullptr || json::string(*ref, "apiVersion") != "v1" ||
      json::string(*ref, "kind") != "Pod" || json::string(*ref, "name").empty()) {
    return forbidden("node requested token not bound to a pod");
  }
  const std::string uid = json::string(*ref, "uid");
  if (uid.empty()) return forbidden("node requested token with a pod binding without a uid");
  auto pod = BERTH_TRY(existingPod(json::string(*ref, "name")));
  if (uid != json::meta(pod->json(), "uid")) {
    return forbidden(fmt::format(
        "the UID in the bound object reference ({}) does not match the UID in record. The object "
        "might have been deleted and then recreated",
        uid));
  }
  if (json::stringAt(pod->json(), {"spec", "nodeName"}) != node_) {
    return forbidden("node requested token bound to a pod scheduled on a different node");
  }
  return {};
}

Status NodeRestriction::lease() const {
  if (request_.namespace_ != kNodeLeaseNamespace) {
    return forbidden(fmt::format("can only access leases in the {} system namespace",
                                 quotedText(kNodeLeaseNamespace)));
  }
  if (targetName() != node_) {
    return forbidden("can only access node lease with the same name as the requesting node");
  }
  return {};
}

Status NodeRestriction::csiNode() const {
  if (targetName() != node_) {
    return forbidden("can only access CSINode with the same name as the requesting node");
  }
  return {};
}

Status NodeRestriction::certificateSigningRequest() const {
  if (request_.operation != AdmissionOperation::kCreate) return {};
  const std::string signer = json::stringAt(object(), {"spec", "signerName"});
  if (signer != kKubeletServingSignerName && signer != kKubeAPIServerClientKubeletSignerName) {
    return {};
  }
  auto pem = base64Decode(json::stringAt(object(), {"spec", "request"}));
  auto request = CertificateRequest::fromPem(pem.value_or(""));
  if (!request) {
    return forbidden(fmt::format("unable to parse csr: {}", request.error().message()));
  }
  if (request->commonName() != std::string(kNodeUserPrefix) + node_) {
    return forbidden(
        fmt::format("can only create a node CSR with CN={}{}", kNodeUserPrefix, node_));
  }
  return {};
}

}  // namespace

Status admitNodeRestriction(const AdmissionRequest& request, const storage::ObjectLookup& lookup) {
  auto node = nodeIdentity(request.user);
  if (!node) return {};  // only nodes are restricted
  return NodeRestriction(request, lookup, *node).admit();
}

}  // namespace berth::controlplane::auth
