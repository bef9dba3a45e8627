#include "controlplane/auth/authentication.h"

#include "controlplane/auth/anonymous_authenticator.h"
#include "controlplane/auth/bearer_token_authenticator.h"
#include "controlplane/auth/bootstrap_token.h"
#include "controlplane/auth/service_account_token.h"
#include "controlplane/auth/token_file.h"
#include "controlplane/auth/x509_authenticator.h"

namespace berth::controlplane::auth {

Result<std::optional<UserInfo>> RequestAuthenticator::authenticate(
    const http::Request& request) const {
  std::vector<std::string> errors;
  for (const auto& authenticator : authenticators_) {
    auto result = authenticator->authenticate(request);
    if (!result) {
      errors.push_back(result.error().message());
      continue;
    }
    if (*result) {
      addAuthenticatedGroup(**result);
      return result;
    }
  }
  // A bad credential is never anonymous.
  if (!errors.empty()) return fail(Code::kUnauthenticated, aggregateMessages(errors));
  if (anonymous_) return anonymous_->authenticate(request);
  return std::optional<UserInfo>();
}

Result<Authentication> buildAuthentication(const AuthenticationOptions& options) {
  Authentication authentication;
  authentication.apiAudiences = options.apiAudiences;
  if (authentication.apiAudiences.empty() && !options.serviceAccountIssuers.empty()) {
    authentication.apiAudiences = {options.serviceAccountIssuers.front()};
  }
  const auto& audiences = authentication.apiAudiences;
  if ((options.bootstrapTokens || !options.serviceAccountKeys.empty()) && !options.lookup) {
    return fail(Code::kInvalidArgument,
                "bootstrap and service account tokens need the object lookup");
  }

  std::vector<std::shared_ptr<const TokenAuthenticator>> tokens;
  if (options.tokenAuthFile) {
    auto file = BERTH_TRY(StaticTokenAuthenticator::fromFile(*options.tokenAuthFile));
    tokens.push_back(std::make_shared<AudienceAgnosticToken>(audiences, std::move(file)));
  }
  if (!options.serviceAccountKeys.empty()) {
    tokens.push_back(ServiceAccountTokenAuthenticator::legacy(
        options.serviceAccountKeys, audiences, options.lookup, options.serviceAccountLookup));
    if (!options.serviceAccountIssuers.empty()) {
      tokens.push_back(ServiceAccountTokenAuthenticator::bound(
          options.serviceAccountIssuers, options.serviceAccountKeys, audiences, options.lookup,
          options.clock));
    }
  }
  if (options.bootstrapTokens) {
    tokens.push_back(std::make_shared<AudienceAgnosticToken>(
        audiences, std::make_shared<BootstrapTokenAuthenticator>(options.lookup, options.clock)));
  }
  auto tokenUnion = std::make_shared<TokenUnion>(std::move(tokens));
  authentication.tokens = std::make_shared<AuthenticatedGroupAdder>(tokenUnion);

  std::vector<std::shared_ptr<const Authenticator>> authenticators;
  if (options.clientCertificates)
    authenticators.push_back(std::make_shared<X509Authenticator>(options.clock));
  authenticators.push_back(std::make_shared<BearerTokenAuthenticator>(tokenUnion, audiences));
  std::shared_ptr<const Authenticator> anonymous;
  if (options.anonymous) {
    anonymous = std::make_shared<AnonymousAuthenticator>(
        options.anonymousPaths.empty() ? AnonymousAuthenticator::defaultPaths()
                                       : options.anonymousPaths);
  }
  authentication.request =
      std::make_shared<RequestAuthenticator>(std::move(authenticators), std::move(anonymous));
  return authentication;
}

}  // namespace berth::controlplane::auth
