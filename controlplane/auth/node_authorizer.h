#pragma once
// The Node authorizer (--authorization-mode Node) of kube-apiserver 1.32, with its default
// AuthorizeNodeWithSelectors: a node identity (user system:node:<name> in group system:nodes)
// may
// - get, list and watch its own Node (by name), create it and update/patch it and its status;
// - get the pods bound to it, list and watch pods only with the field selector
//   spec.nodeName=<itself>, create and delete pods (mirror pods, which NodeRestriction checks),
//   update/patch pod status and create evictions;
// - read (get/list/watch by name) the secrets and configmaps, get the PVCs and PVs, and create
//   tokens for the service accounts that the pods bound to it refer to (through PVCs and PVs
//   too), update/patch those PVCs' status, get the VolumeAttachments of the node;
// - get/create/update/patch/delete its own Lease in kube-node-lease and its own CSINode;
// - everything else only as the static rules of system:node (nodeRules()) allow.
// Upstream keeps a graph of these relations fed by informers; here the relation is looked up in
// the current objects on each decision, with the same answers and the same reasons ("no
// relationship found between node 'n1' and this object").
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/rule_resolver.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

// Where each node keeps its heartbeat Lease (named after the node).
inline constexpr std::string_view kNodeLeaseNamespace = "kube-node-lease";

// The node a user is: nullopt when not a node identity (name system:node:<x> and group
// system:nodes), "" when the name has no node part.
std::optional<std::string> nodeIdentity(const UserInfo& user);

class NodeAuthorizer final : public Authorizer, public RuleResolver {
 public:
  explicit NodeAuthorizer(std::shared_ptr<const storage::ObjectLookup> lookup)
      : lookup_(std::move(lookup)) {}

  AuthorizationResult authorize(const Attributes& attributes) const override;
  // Nodes' rules cannot be enumerated: incomplete, with an error, as upstream.
  RuleResolution rulesFor(const UserInfo& user, std::string_view ns) const override;

 private:
  enum class Vertex { kPod, kSecret, kConfigMap, kClaim, kVolume, kServiceAccount, kAttachment };
  bool related(std::string_view node, Vertex type, std::string_view ns,
               std::string_view name) const;
  AuthorizationResult relation(std::string_view node, Vertex type,
                               const Attributes& attributes) const;
  AuthorizationResult readNamespaced(std::string_view node, Vertex type,
                                     const Attributes& attributes) const;
  AuthorizationResult get(std::string_view node, Vertex type, const Attributes& attributes) const;
  AuthorizationResult pod(std::string_view node, const Attributes& attributes) const;

  std::shared_ptr<const storage::ObjectLookup> lookup_;
};

// The requirements of a field selector ("spec.nodeName=n1,status.phase!=Failed") as
// (field, operator "=" or "!=", value); nullopt when it does not parse.
struct FieldRequirement {
  std::string field;
  std::string op;
  std::string value;
};
std::optional<std::vector<FieldRequirement>> parseFieldSelector(std::string_view selector);

}  // namespace berth::controlplane::auth
