#pragma once
// The authorization.k8s.io/v1 reviews as kube-apiserver evaluates them, for the lead's handlers
// (each takes the request body and returns it with its status):
// - SubjectAccessReview: may spec.user/groups do spec.resourceAttributes or
//   spec.nonResourceAttributes? (status.allowed, denied, reason, evaluationError)
// - LocalSubjectAccessReview: the same within the URL's namespace;
// - SelfSubjectAccessReview: for the requesting user (`kubectl auth can-i`);
// - SelfSubjectRulesReview: the requesting user's rules in spec.namespace (`kubectl auth can-i
//   --list`), incomplete when a mode cannot enumerate them.
// And authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`).
//
// Errors follow token_request.h's code mapping: kInvalidArgument 422 Invalid
// (`SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least
// one of user or group must be specified`), kFailedPrecondition 400 BadRequest.
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/authorizer.h"
#include "controlplane/auth/rule_resolver.h"

namespace berth::controlplane::auth {

[[nodiscard]] Result<nlohmann::json> reviewSubjectAccess(const Authorizer& authorizer,
                                                         nlohmann::json review);
[[nodiscard]] Result<nlohmann::json> reviewLocalSubjectAccess(const Authorizer& authorizer,
                                                              std::string_view ns,
                                                              nlohmann::json review);
[[nodiscard]] Result<nlohmann::json> reviewSelfSubjectAccess(const Authorizer& authorizer,
                                                             const UserInfo& user,
                                                             nlohmann::json review);
[[nodiscard]] Result<nlohmann::json> reviewSelfSubjectRules(const RuleResolver& rules,
                                                            const UserInfo& user,
                                                            nlohmann::json review);
nlohmann::json reviewSelf(const UserInfo& user, nlohmann::json review);

// The Attributes a review's spec asks about (ResourceAttributesFrom/NonResourceAttributesFrom):
// an empty version is "*".
Attributes reviewAttributes(const UserInfo& user, const nlohmann::json& spec);

}  // namespace berth::controlplane::auth
