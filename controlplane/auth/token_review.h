#pragma once
// TokenReview (authentication.k8s.io/v1) as kube-apiserver evaluates it: the token goes through
// the same token authenticators as a request's bearer token, for spec.audiences (default: the API
// audiences); status.authenticated, status.user (username, uid, groups with system:authenticated,
// extra), status.audiences and status.error ("[invalid bearer token, <why>]") are filled in.
// An empty spec.token is kFailedPrecondition (400) "token is required for TokenReview in
// authentication".
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/authentication.h"

namespace berth::controlplane::auth {

[[nodiscard]] Result<nlohmann::json> reviewToken(const Authentication& authentication,
                                                 nlohmann::json tokenReview);

// UserInfo as authentication.k8s.io/v1 UserInfo (empty members left out).
nlohmann::json userInfoJson(const UserInfo& user);

}  // namespace berth::controlplane::auth
