#include "controlplane/auth/node_authorizer.h"

#include <algorithm>

#include "controlplane/auth/bootstrap_policy.h"
#include "controlplane/auth/json_util.h"
#include "controlplane/auth/pod_references.h"
#include "controlplane/auth/policy_rule.h"

namespace berth::controlplane::auth {

namespace {

AuthorizationResult allow() {
  return {Decision::kAllow, ""};
}
AuthorizationResult noOpinion(std::string reason = {}) {
  return {Decision::kNoOpinion, std::move(reason)};
}

bool contains(const std::vector<std::string>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

std::optional<std::string> nodeIdentity(const UserInfo& user) {
  if (!user.name.starts_with(kNodeUserPrefix)) return std::nullopt;
  if (!contains(user.groups, kNodesGroup)) return std::nullopt;
  return user.name.substr(kNodeUserPrefix.size());
}

std::optional<std::vector<FieldRequirement>> parseFieldSelector(std::string_view selector) {
  std::vector<FieldRequirement> requirements;
  std::string term;
  std::vector<std::string> terms;
  for (std::size_t i = 0; i < selector.size(); ++i) {
    if (selector[i] == '\\' && i + 1 < selector.size()) {
      term += selector[i];
      term += selector[++i];
    } else if (selector[i] == ',') {
      terms.push_back(std::move(term));
      term.clear();
    } else {
      term += selector[i];
    }
  }
  if (!term.empty() || !terms.empty()) terms.push_back(std::move(term));
  for (const auto& text : terms) {
    if (text.empty()) continue;
    // The first unescaped operator splits the term: "!=", "==" or "=".
    std::size_t at = 0;
    std::string op;
    for (; at < text.size(); ++at) {
      if (text[at] == '\\') {
        ++at;
        continue;
      }
      if (text.compare(at, 2, "!=") == 0 || text.compare(at, 2, "==") == 0) {
        op = text.substr(at, 2);
        break;
      }
      if (text[at] == '=') {
        op = "=";
        break;
      }
    }
    if (op.empty()) return std::nullopt;
    FieldRequirement requirement{text.substr(0, at), op == "!=" ? "!=" : "=", {}};
    for (std::size_t i = at + op.size(); i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) ++i;
      requirement.value += text[i];
    }
    requirements.push_back(std::move(requirement));
  }
  return requirements;
}

bool NodeAuthorizer::related(std::string_view node, Vertex type, std::string_view ns,
                             std::string_view name) const {
  auto podsOnNode = [&](std::string_view podNamespace) {
    std::vector<storage::ObjectPtr> pods;
    for (auto& pod : lookup_->list("", "pods", podNamespace)) {
      if (json::stringAt(pod->json(), {"spec", "nodeName"}) == node) pods.push_back(std::move(pod));
    }
    return pods;
  };
  switch (type) {
    case Vertex::kPod: {
      auto pod = lookup_->get("", "pods", ns, name);
      return pod && json::stringAt(pod->json(), {"spec", "nodeName"}) == node;
    }
    case Vertex::kConfigMap:
      return std::ranges::any_of(podsOnNode(ns), [&](const auto& pod) {
        return contains(podConfigMapNames(pod->json()), name);
      });
    case Vertex::kServiceAccount:
      return std::ranges::any_of(podsOnNode(ns), [&](const auto& pod) {
        return json::stringAt(pod->json(), {"spec", "serviceAccountName"}) == name;
      });
    case Vertex::kClaim:
      return std::ranges::any_of(podsOnNode(ns), [&](const auto& pod) {
        return contains(podClaimNames(pod->json()), name);
      });
    case Vertex::kVolume: {
      // pv -> pvc (the PV's claimRef) -> pod -> node
      auto pv = lookup_->get("", "persistentvolumes", "", name);
      if (!pv) return false;
      const std::string claimNamespace =
          json::stringAt(pv->json(), {"spec", "claimRef", "namespace"});
      const std::string claimName = json::stringAt(pv->json(), {"spec", "claimRef", "name"});
      return !claimName.empty() && related(node, Vertex::kClaim, claimNamespace, claimName);
    }
    case Vertex::kAttachment: {
      auto attachment = lookup_->get("storage.k8s.io", "volumeattachments", "", name);
      return attachment && json::stringAt(attachment->json(), {"spec", "nodeName"}) == node;
    }
    case Vertex::kSecret: {
      if (std::ranges::any_of(podsOnNode(ns), [&](const auto& pod) {
            return contains(podSecretNames(pod->json()), name);
          })) {
        return true;
      }
      // secret -> pv -> pvc -> pod -> node
      for (const auto& pv : lookup_->list("", "persistentvolumes", "")) {
        const auto refs = persistentVolumeSecrets(pv->json());
        const bool refers = std::ranges::any_of(
            refs, [&](const auto& ref) { return ref.first == ns && ref.second == name; });
        if (refers && related(node, Vertex::kVolume, "", json::meta(pv->json(), "name"))) {
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

AuthorizationResult NodeAuthorizer::relation(std::string_view node, Vertex type,
                                             const Attributes& attributes) const {
  if (attributes.name.empty()) return noOpinion("No Object name found");
  if (!related(node, type, attributes.namespace_, attributes.name)) {
    return noOpinion(fmt::format("no relationship found between node '{}' and this object", node));
  }
  return allow();
}

AuthorizationResult NodeAuthorizer::readNamespaced(std::string_view node, Vertex type,
                                                   const Attributes& attributes) const {
  if (attributes.verb != "get" && attributes.verb != "list" && attributes.verb != "watch") {
    return noOpinion("can only read resources of this type");
  }
  if (!attributes.subresource.empty()) return noOpinion("cannot read subresource");
  if (attributes.namespace_.empty()) {
    return noOpinion("can only read namespaced object of this type");
  }
  return relation(node, type, attributes);
}

AuthorizationResult NodeAuthorizer::get(std::string_view node, Vertex type,
                                        const Attributes& attributes) const {
  if (attributes.verb != "get") return noOpinion("can only get individual resources of this type");
  if (!attributes.subresource.empty()) return noOpinion("cannot get subresource");
  return relation(node, type, attributes);
}

AuthorizationResult NodeAuthorizer::pod(std::string_view node, const Attributes& attributes) const {
  const std::string& verb = attributes.verb;
  if (attributes.subresource.empty()) {
    if (verb == "get") return get(node, Vertex::kPod, attributes);
    if (verb == "list" || verb == "watch") {
      if (auto requirements = parseFieldSelector(attributes.fieldSelector)) {
        for (const auto& requirement : *requirements) {
          if (requirement.field == "spec.nodeName" && requirement.op == "=" &&
              requirement.value == node) {
            return allow();
          }
        }
      }
      if (!attributes.name.empty()) return relation(node, Vertex::kPod, attributes);
      return noOpinion("can only list/watch pods with spec.nodeName field selector");
    }
    // Mirror pods: NodeRestriction limits them to the node's own.
    if (verb == "create" || verb == "delete") return allow();
  } else if (attributes.subresource == "status") {
    if (verb == "update" || verb == "patch") return allow();
  } else if (attributes.subresource == "eviction") {
    if (verb == "create") return allow();
  }
  return noOpinion();
}

AuthorizationResult NodeAuthorizer::authorize(const Attributes& attributes) const {
  auto identity = nodeIdentity(attributes.user);
  if (!identity) return noOpinion();
  const std::string& node = *identity;
  if (node.empty()) {
    return noOpinion(
        fmt::format("unknown node for user {}", nlohmann::json(attributes.user.name).dump()));
  }
  if (attributes.resourceRequest) {
    const std::string& group = attributes.apiGroup;
    const std::string& resource = attributes.resource;
    const std::string& verb = attributes.verb;
    const std::string& subresource = attributes.subresource;
    if (group.empty() && resource == "secrets")
      return readNamespaced(node, Vertex::kSecret, attributes);
    if (group.empty() && resource == "configmaps") {
      return readNamespaced(node, Vertex::kConfigMap, attributes);
    }
    if (group.empty() && resource == "persistentvolumeclaims") {
      if (subresource == "status") {
        if (verb != "update" && verb != "patch")
          return noOpinion("can only get/update/patch this type");
        return relation(node, Vertex::kClaim, attributes);
      }
      return get(node, Vertex::kClaim, attributes);
    }
    if (group.empty() && resource == "persistentvolumes")
      return get(node, Vertex::kVolume, attributes);
    if (group == "storage.k8s.io" && resource == "volumeattachments") {
      return get(node, Vertex::kAttachment, attributes);
    }
    if (group.empty() && resource == "serviceaccounts") {
      if (verb != "create" || attributes.name.empty()) {
        return noOpinion("can only create tokens for individual service accounts");
      }
      if (subresource != "token") {
        return noOpinion("can only create token subresource of serviceaccount");
      }
      return relation(node, Vertex::kServiceAccount, attributes);
    }
    if (group == "coordination.k8s.io" && resource == "leases") {
      if (verb != "get" && verb != "create" && verb != "update" && verb != "patch" &&
          verb != "delete") {
        return noOpinion("can only get, create, update, patch, or delete a node lease");
      }
      if (attributes.namespace_ != kNodeLeaseNamespace) {
        return noOpinion(fmt::format("can only access leases in the \"{}\" system namespace",
                                     kNodeLeaseNamespace));
      }
      // The name is unknown to the authorizer on create: NodeRestriction checks it.
      if (verb != "create" && attributes.name != node) {
        return noOpinion("can only access node lease with the same name as the requesting node");
      }
      return allow();
    }
    if (group == "storage.k8s.io" && resource == "csinodes") {
      if (verb != "get" && verb != "create" && verb != "update" && verb != "patch" &&
          verb != "delete") {
        return noOpinion("can only get, create, update, patch, or delete a CSINode");
      }
      if (!subresource.empty()) return noOpinion("cannot authorize CSINode subresources");
      if (verb != "create" && attributes.name != node) {
        return noOpinion("can only access CSINode with the same name as the requesting node");
      }
      return allow();
    }
    if (group.empty() && resource == "nodes") {
      if (subresource.empty()) {
        if (verb == "create" || verb == "update" || verb == "patch") return allow();
        if (verb == "get" || verb == "list" || verb == "watch") {
          // By name, not by relation, so a kubelet may look for its Node before creating it.
          if (attributes.name == node) return allow();
          if (attributes.name.empty()) {
            return noOpinion(
                fmt::format("node '{}' cannot read all nodes, only its own Node object", node));
          }
          return noOpinion(fmt::format("node '{}' cannot read '{}', only its own Node object", node,
                                       attributes.name));
        }
      } else if (subresource == "status" && (verb == "update" || verb == "patch")) {
        return allow();
      }
      return noOpinion();
    }
    if (group.empty() && resource == "pods") return pod(node, attributes);
  }
  if (rbac::rulesAllow(attributes, nodeRules())) return allow();
  return noOpinion();
}

RuleResolution NodeAuthorizer::rulesFor(const UserInfo& user, std::string_view) const {
  RuleResolution resolution;
  if (nodeIdentity(user)) {
    resolution.incomplete = true;
    resolution.errors.push_back("node authorizer does not support user rule resolution");
  }
  return resolution;
}

}  // namespace berth::controlplane::auth
