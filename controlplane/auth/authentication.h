#pragma once
// The authentication of berth-server, put together from its flags as kube-apiserver does:
//
//   request: union(x509 client certificate, Authorization: Bearer -> tokens)
//            + system:authenticated for whoever it authenticates,
//            then, only when that union failed without an error, anonymous (when enabled, for
//            /healthz, /livez, /readyz and /version);
//   tokens:  union(--token-auth-file, legacy service account tokens, bound service account
//            tokens, bootstrap tokens), static and bootstrap tokens valid for the API audiences
//            only.
//
// For the lead's request handling: authenticate() gives the user; nullopt (no credentials and no
// anonymous access) and errors both answer 401 (the error's message is for the log).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/auth/authenticator.h"
#include "controlplane/auth/clock.h"
#include "controlplane/auth/crypto_names.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

struct AuthenticationOptions {
  bool clientCertificates = true;  // --client-ca-file given (the HTTP server verifies)
  std::optional<std::filesystem::path> tokenAuthFile;  // --token-auth-file
  bool bootstrapTokens = false;                        // --enable-bootstrap-token-auth
  std::vector<PublicKey> serviceAccountKeys;           // --service-account-key-file
  std::vector<std::string> serviceAccountIssuers;      // --service-account-issuer
  // --api-audiences; empty: the first issuer, as kube-apiserver defaults it.
  std::vector<std::string> apiAudiences;
  bool serviceAccountLookup = true;         // --service-account-lookup
  bool anonymous = true;                    // --anonymous-auth
  std::vector<std::string> anonymousPaths;  // empty: AnonymousAuthenticator::defaultPaths()
  std::shared_ptr<const storage::ObjectLookup> lookup;
  Clock clock = systemClock();
};

class RequestAuthenticator final : public Authenticator {
 public:
  RequestAuthenticator(std::vector<std::shared_ptr<const Authenticator>> authenticators,
                       std::shared_ptr<const Authenticator> anonymous)
      : authenticators_(std::move(authenticators)), anonymous_(std::move(anonymous)) {}

  Result<std::optional<UserInfo>> authenticate(const http::Request& request) const override;

 private:
  std::vector<std::shared_ptr<const Authenticator>> authenticators_;
  std::shared_ptr<const Authenticator> anonymous_;  // may be null
};

struct Authentication {
  std::shared_ptr<const Authenticator> request;  // every request
  // The token union alone (with system:authenticated added): TokenReview.
  std::shared_ptr<const TokenAuthenticator> tokens;
  std::vector<std::string> apiAudiences;
};

[[nodiscard]] Result<Authentication> buildAuthentication(const AuthenticationOptions& options);

}  // namespace berth::controlplane::auth
