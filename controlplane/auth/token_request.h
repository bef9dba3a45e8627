#pragma once
// serviceaccounts/token (TokenRequest, authentication.k8s.io/v1) as kube-apiserver's TokenREST
// creates it: the lead's handler calls issueTokenRequest after authorization and admission
// (NodeRestriction's check of a node's request is admitNodeRestriction).
//
// Errors map to API statuses by code: kNotFound 404 (`serviceaccounts "x" not found`),
// kInvalidArgument 422 Invalid (`TokenRequest.authentication.k8s.io "" is invalid:
// spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes`),
// kFailedPrecondition 400 BadRequest, kAborted 409 Conflict; the message is the Status message.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controlplane/auth/service_account_token.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

struct TokenRequestOptions {
  std::vector<std::string> apiAudiences;  // the default spec.audiences
  // --service-account-max-token-expiration; 0: no maximum.
  std::chrono::seconds maxExpiration{0};
  // --service-account-extend-token-expiration (default true): a pod-bound token asked for with
  // expirationSeconds 3607 (what the kubelet asks for projected volumes) for the API audiences
  // is valid for a year, with warnafter at the requested expiry.
  bool extendExpiration = true;
};

struct TokenRequestResult {
  nlohmann::json tokenRequest;        // the object to return, with status.token
  std::vector<std::string> warnings;  // Warning headers
};

inline constexpr std::int64_t kDefaultTokenExpirationSeconds = 3600;
inline constexpr std::int64_t kWarnOnlyBoundTokenExpirationSeconds = 3607;
inline constexpr std::int64_t kExpirationExtensionSeconds = 24LL * 365 * 60 * 60;

// `ns`/`name`: the service account from the URL; `request`: the body (may be {}).
[[nodiscard]] Result<TokenRequestResult> issueTokenRequest(
    const ServiceAccountTokenGenerator& generator, const storage::ObjectLookup& lookup,
    std::string_view ns, std::string_view name, nlohmann::json request,
    const TokenRequestOptions& options, std::chrono::system_clock::time_point now);

}  // namespace berth::controlplane::auth
