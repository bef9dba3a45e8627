#pragma once
// The authorization of berth-server from --authorization-mode, as kube-apiserver builds it:
// members of system:masters are always allowed, then each mode in order (Node, RBAC, AlwaysAllow,
// AlwaysDeny); the first Allow or Deny wins, and a request nobody allows is refused with the
// reasons joined by newlines. The same modes answer "what may this user do" (rule resolution).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/escalation.h"
#include "controlplane/auth/rbac_authorizer.h"
#include "controlplane/auth/rule_resolver.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

enum class AuthorizationMode { kAlwaysAllow, kAlwaysDeny, kNode, kRbac };

// "Node,RBAC": the modes in order. Unknown and repeated modes are errors with kube-apiserver's
// messages; ABAC and Webhook are refused as modes berth-server does not have.
[[nodiscard]] Result<std::vector<AuthorizationMode>> parseAuthorizationModes(std::string_view flag);

class AuthorizerUnion final : public Authorizer, public RuleResolver {
 public:
  AuthorizerUnion(std::vector<std::shared_ptr<const Authorizer>> authorizers,
                  std::vector<std::shared_ptr<const RuleResolver>> resolvers)
      : authorizers_(std::move(authorizers)), resolvers_(std::move(resolvers)) {}
  AuthorizationResult authorize(const Attributes& attributes) const override;
  RuleResolution rulesFor(const UserInfo& user, std::string_view ns) const override;

 private:
  std::vector<std::shared_ptr<const Authorizer>> authorizers_;
  std::vector<std::shared_ptr<const RuleResolver>> resolvers_;
};

struct Authorization {
  std::shared_ptr<const Authorizer> authorizer;       // every request
  std::shared_ptr<const RuleResolver> rules;          // SelfSubjectRulesReview
  std::shared_ptr<const RbacAuthorizer> rbac;         // null without RBAC
  std::shared_ptr<const EscalationCheck> escalation;  // null without RBAC
};

[[nodiscard]] Authorization buildAuthorization(const std::vector<AuthorizationMode>& modes,
                                               std::shared_ptr<const storage::ObjectLookup> lookup);

// The message of a 403 for `attributes` refused with `reason`, as kube-apiserver writes it:
//   pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the
//   namespace "default"[: <reason>]
//   forbidden: User "system:anonymous" cannot get path "/api"
std::string forbiddenMessage(const Attributes& attributes, std::string_view reason);

}  // namespace berth::controlplane::auth
