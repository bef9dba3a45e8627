#pragma once
// RBAC's escalation prevention for writes of Roles, ClusterRoles, RoleBindings and
// ClusterRoleBindings (the apiserver's policy-based RBAC storage). The lead's handlers call these
// on create and update, after authorization and before storing.
//
// - A role may hold only rules its author already holds (RBAC rules in the role's namespace),
//   unless the author may `escalate` roles/clusterroles or is in system:masters; an
//   aggregationRule needs cluster-admin's rules.
// - A binding may grant only a role whose rules its author holds, unless the author may `bind`
//   that role or is in system:masters.
// - An update that changes only ownerReferences, finalizers or the deletion fields is always
//   allowed (the garbage collector's).
//
// A refusal is kPermissionDenied with the Forbidden Status message:
//   roles.rbac.authorization.k8s.io "pod-reader" is forbidden: user "jane" (groups=["dev"
//   "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
//   {APIGroups:[""], Resources:["pods"], Verbs:["get"]}
// and a binding to a missing role kNotFound (`roles.rbac.authorization.k8s.io "x" not found`).
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/rbac_authorizer.h"

namespace berth::controlplane::auth {

class EscalationCheck {
 public:
  // `authorizer`: the whole chain (for escalate and bind); `rbac`: whose rules the author holds.
  EscalationCheck(std::shared_ptr<const Authorizer> authorizer,
                  std::shared_ptr<const RbacAuthorizer> rbac)
      : authorizer_(std::move(authorizer)), rbac_(std::move(rbac)) {}

  // `resource`: "roles" (in `ns`) or "clusterroles" (`ns` ""); `old`: null on create.
  [[nodiscard]] Status checkRoleWrite(const UserInfo& user, std::string_view resource,
                                      std::string_view ns, const nlohmann::json& role,
                                      const nlohmann::json* old) const;
  // `resource`: "rolebindings" (in `ns`) or "clusterrolebindings" (`ns` "").
  [[nodiscard]] Status checkBindingWrite(const UserInfo& user, std::string_view resource,
                                         std::string_view ns, const nlohmann::json& binding,
                                         const nlohmann::json* old) const;

  // Whether `user` holds every rule (the ConfirmNoEscalation message otherwise, without the
  // Forbidden prefix).
  [[nodiscard]] Status confirmNoEscalation(const UserInfo& user, std::string_view ns,
                                           const std::vector<nlohmann::json>& rules) const;

 private:
  bool authorized(const UserInfo& user, std::string_view verb, std::string_view resource,
                  std::string_view ns, std::string_view name) const;

  std::shared_ptr<const Authorizer> authorizer_;
  std::shared_ptr<const RbacAuthorizer> rbac_;
};

// Whether an update changes nothing but ownerReferences, finalizers and the deletion fields.
bool isOnlyMutatingGcFields(const nlohmann::json& object, const nlohmann::json& old);

}  // namespace berth::controlplane::auth
