#pragma once
// Service account tokens: RS256 JWTs the server signs with its service account key and verifies
// with the --service-account-key-file keys.
//
// - Bound tokens (TokenRequest, projected volumes): iss = the first --service-account-issuer,
//   aud, exp/nbf/iat, jti and the "kubernetes.io" claim {namespace, serviceaccount{name,uid},
//   pod|secret|node{name,uid}, warnafter}. Verified against every issuer and the API audiences;
//   rejected once expired (1 minute of leeway) or once the service account, or the pod, secret or
//   node it is bound to, is gone or has another uid.
// - Legacy tokens (kubernetes.io/service-account-token Secrets): iss "kubernetes/serviceaccount",
//   no expiry, the kubernetes.io/serviceaccount/* claims; valid while the Secret holds exactly
//   this token and the service account exists with the claimed uid.
//
// Users are system:serviceaccount:<ns>:<name> in system:serviceaccounts and
// system:serviceaccounts:<ns>, with the pod, node and credential (JTI=<jti>) extras.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/auth/clock.h"
#include "controlplane/auth/crypto_names.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

inline constexpr std::string_view kLegacyServiceAccountIssuer = "kubernetes/serviceaccount";

// What a bound token is bound to. `serviceAccount` is required; at most one of pod/secret/node
// is the binding, except that a pod binding also carries the pod's node (the apiserver infers it).
struct BoundTokenSubject {
  const nlohmann::json* serviceAccount = nullptr;
  const nlohmann::json* pod = nullptr;
  const nlohmann::json* secret = nullptr;
  const nlohmann::json* node = nullptr;
};

class ServiceAccountTokenGenerator {
 public:
  // `issuer`: --service-account-issuer (its first value); `key`: the RSA signing key.
  [[nodiscard]] static Result<ServiceAccountTokenGenerator> create(std::string issuer, KeyPair key);

  // A bound token valid for `expiration` from `now`; `warnAfter` (the projected-token
  // extension) is recorded when nonzero.
  [[nodiscard]] Result<std::string> generateBound(const BoundTokenSubject& subject,
                                                  const std::vector<std::string>& audiences,
                                                  std::chrono::seconds expiration,
                                                  std::chrono::seconds warnAfter,
                                                  std::chrono::system_clock::time_point now) const;
  // The token the legacy token controller puts into a kubernetes.io/service-account-token Secret.
  [[nodiscard]] Result<std::string> generateLegacy(const nlohmann::json& serviceAccount,
                                                   const nlohmann::json& secret) const;

  const std::string& issuer() const { return issuer_; }

 private:
  ServiceAccountTokenGenerator(std::string issuer, KeyPair key, std::string keyId)
      : issuer_(std::move(issuer)), key_(std::move(key)), keyId_(std::move(keyId)) {}
  std::string issuer_;
  KeyPair key_;
  std::string keyId_;
};

class ServiceAccountTokenAuthenticator final : public TokenAuthenticator {
 public:
  // Bound tokens of these issuers (--service-account-issuer, every value).
  static std::shared_ptr<ServiceAccountTokenAuthenticator> bound(
      std::vector<std::string> issuers, std::vector<PublicKey> keys,
      std::vector<std::string> apiAudiences, std::shared_ptr<const storage::ObjectLookup> lookup,
      Clock clock);
  // Legacy Secret-based tokens. `lookup` false (--service-account-lookup=false) trusts the
  // signature alone.
  static std::shared_ptr<ServiceAccountTokenAuthenticator> legacy(
      std::vector<PublicKey> keys, std::vector<std::string> apiAudiences,
      std::shared_ptr<const storage::ObjectLookup> lookup, bool lookupObjects = true);

  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

 private:
  struct Options {
    bool legacy = false;
    std::vector<std::string> issuers;
    std::vector<PublicKey> keys;
    std::vector<std::string> apiAudiences;
    std::shared_ptr<const storage::ObjectLookup> lookup;
    bool lookupObjects = true;
    Clock clock;
  };
  explicit ServiceAccountTokenAuthenticator(Options options) : options_(std::move(options)) {}
  Result<UserInfo> validateBound(const nlohmann::json& claims) const;
  Result<UserInfo> validateLegacy(std::string_view token, const nlohmann::json& claims) const;

  Options options_;
};

// "system:serviceaccount:<ns>:<name>"; and its inverse (nullopt for other names).
std::string serviceAccountUsername(std::string_view ns, std::string_view name);
std::optional<std::pair<std::string, std::string>> splitServiceAccountUsername(
    std::string_view username);

}  // namespace berth::controlplane::auth
