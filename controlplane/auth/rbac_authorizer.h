#pragma once
// The RBAC authorizer (--authorization-mode RBAC) over the current ClusterRoleBindings, the
// RoleBindings of the request's namespace and the roles they reference, read through the
// ObjectLookup on every decision: the first rule that allows the request wins, with the reason
// `RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group
// "system:masters"`; otherwise no opinion, with the resolution errors as the reason
// (`RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`).
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/rule_resolver.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

class RbacAuthorizer final : public Authorizer, public RuleResolver {
 public:
  explicit RbacAuthorizer(std::shared_ptr<const storage::ObjectLookup> lookup)
      : lookup_(std::move(lookup)) {}

  AuthorizationResult authorize(const Attributes& attributes) const override;
  RuleResolution rulesFor(const UserInfo& user, std::string_view ns) const override;

  // The rules a roleRef grants in `bindingNamespace` ("" for a ClusterRoleBinding), as the
  // binding storage resolves them: kNotFound `roles.rbac.authorization.k8s.io "x" not found`.
  [[nodiscard]] Result<std::vector<nlohmann::json>> roleReferenceRules(
      const nlohmann::json& roleRef, std::string_view bindingNamespace) const;

  // Visits every rule that applies to the user in `ns`: ClusterRoleBindings first, then the
  // namespace's RoleBindings. `visit(description, rule, error)` gets either a rule (with a
  // function that describes its binding) or an error; it returns false to stop.
  using Visitor = std::function<bool(const std::function<std::string()>& describe,
                                     const nlohmann::json* rule, const std::string* error)>;
  void visitRulesFor(const UserInfo& user, std::string_view ns, const Visitor& visit) const;

 private:
  // The role a roleRef names; kNotFound names the resource in the plural (the registry's errors)
  // or, for the authorizer's reasons, in the singular (the listers').
  Result<storage::ObjectPtr> findRole(const nlohmann::json& roleRef,
                                      std::string_view bindingNamespace, bool singularNames) const;

  std::shared_ptr<const storage::ObjectLookup> lookup_;
};

// Whether an RBAC subject (User, Group, ServiceAccount) is the user; a ServiceAccount subject
// without a namespace is one of `bindingNamespace`.
bool subjectMatches(const nlohmann::json& subject, const UserInfo& user,
                    std::string_view bindingNamespace);

}  // namespace berth::controlplane::auth
