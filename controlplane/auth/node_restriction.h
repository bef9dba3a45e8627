#pragma once
// The NodeRestriction admission plugin of kube-apiserver 1.32: what a node identity
// (system:node:<name> in system:nodes) may create, update and delete, after the Node authorizer
// let the request through. The lead calls admitNodeRestriction for every create, update and
// delete (subresources included); it passes requests of other users untouched. A node may
// - create, update and delete only its own Node, never changing its taints or configSource, nor
//   labels in node-restriction.kubernetes.io or kubernetes.io/k8s.io namespaces other than the
//   kubelet's own (kubernetes.io/hostname, kubernetes.io/os, topology.kubernetes.io/zone,
//   [*.]node.kubernetes.io/*, [*.]kubelet.kubernetes.io/*...);
// - create and delete only mirror pods bound to itself (annotation kubernetes.io/config.mirror,
//   a controller owner reference to its Node, no service account, secret, configmap, PVC or
//   cluster trust bundle), update the status of pods bound to it (not their labels), evict them;
// - update only the status of PVCs (capacity, conditions, allocated resources);
// - create tokens only bound to a pod bound to it;
// - touch only its own Lease in kube-node-lease and its own CSINode;
// - create kubelet CSRs (kubelet-serving, kube-apiserver-client-kubelet) only for
//   CN=system:node:<itself>.
//
// Refusals are kPermissionDenied with the Forbidden Status message (`nodes "n2" is forbidden:
// node "n1" is not allowed to modify node "n2"`); a pod or node the check needs that does not exist
// is kNotFound (`pod "web" not found`).
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/user.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

enum class AdmissionOperation { kCreate, kUpdate, kDelete, kConnect };

struct AdmissionRequest {
  UserInfo user;
  AdmissionOperation operation = AdmissionOperation::kCreate;
  std::string group;        // "" core
  std::string resource;     // "pods"
  std::string subresource;  // "status", "eviction", "token"
  std::string namespace_;
  // The object's name; on create, the name in the submitted object (as the apiserver's admission
  // attributes carry it).
  std::string name;
  // The submitted object (create, update; the Eviction or TokenRequest of a subresource create).
  const nlohmann::json* object = nullptr;
  // The stored object (update, delete).
  const nlohmann::json* oldObject = nullptr;
};

[[nodiscard]] Status admitNodeRestriction(const AdmissionRequest& request,
                                          const storage::ObjectLookup& lookup);

}  // namespace berth::controlplane::auth
