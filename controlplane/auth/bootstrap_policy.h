#pragma once
// The default RBAC policy of kube-apiserver 1.32 (bootstrap_policy.json in this directory, compiled
// in): the objects berth-server creates at its first start and reconciles at every start, as the
// apiserver's rbac/bootstrap-roles post-start hook does. Every object carries the label
// kubernetes.io/bootstrapping=rbac-defaults and the annotation
// rbac.authorization.kubernetes.io/autoupdate=true; admin, edit and view come with their
// aggregated rules already computed.
//
// Note that upstream binds system:node to nobody: nodes are authorized by the Node authorizer,
// whose static rules are nodeRules().
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::controlplane::auth {

struct BootstrapPolicy {
  std::vector<nlohmann::json> clusterRoles;
  std::vector<nlohmann::json> clusterRoleBindings;
  std::vector<nlohmann::json> roles;         // in kube-system and kube-public
  std::vector<nlohmann::json> roleBindings;  // same
};

// The policy as complete rbac.authorization.k8s.io/v1 objects (apiVersion, kind, metadata).
const BootstrapPolicy& bootstrapPolicy();

// Not upstream defaults: the bindings a cluster needs for kubelet TLS bootstrap with bootstrap
// tokens (kubeadm creates the same three under kubeadm: names): members of system:bootstrappers
// may create CSRs and have their node client CSRs auto-approved, nodes may renew their own.
const std::vector<nlohmann::json>& tlsBootstrapClusterRoleBindings();

// The Node authorizer's static rules (bootstrappolicy.NodeRules(), the rules of system:node).
const nlohmann::json& nodeRules();

}  // namespace berth::controlplane::auth
