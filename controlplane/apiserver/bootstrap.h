#pragma once
// What exists from the first start (and is repaired at every start): the namespaces default,
// kube-system, kube-public and kube-node-lease; the `kubernetes` Service in default with its
// Endpoints and EndpointSlice pointing at this server; the system PriorityClasses; and the
// default RBAC policy. Written through the stores, so a restart finds them and changes nothing.
#include <string>
#include <vector>

#include "common/ip.h"
#include "controlplane/apiserver/registry.h"

namespace berth::controlplane::apiserver {

struct BootstrapConfig {
  std::string advertiseAddress;  // the kubernetes Endpoints' address
  int securePort = 6443;
  std::vector<IpAddr> kubernetesServiceIps;  // one per service range
  std::vector<Json> policy;  // default ClusterRoles and ClusterRoleBindings (and Roles...)
};

[[nodiscard]] Status bootstrap(Registry& registry, const BootstrapConfig& config);

}  // namespace berth::controlplane::apiserver
