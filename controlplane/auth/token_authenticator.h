#pragma once
// Bearer token authentication (k8s.io/apiserver's authenticator.Token): static tokens, bootstrap
// tokens and service account JWTs, each an authenticator that recognizes its own tokens; a union
// tries them in turn. Used by the request chain and by TokenReview.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controlplane/auth/user.h"

namespace berth::controlplane::auth {

struct TokenAuthentication {
  UserInfo user;
  // The audiences the token is valid for, among those asked for.
  std::vector<std::string> audiences;
};

class TokenAuthenticator {
 public:
  virtual ~TokenAuthenticator() = default;
  // `audiences`: the audiences the caller needs the token to be valid for (the API audiences for
  // a request to this server; TokenReview's spec.audiences). nullopt: not a token this
  // authenticator knows or accepts; kUnauthenticated: one of its tokens, but invalid (expired,
  // bad signature, its objects gone), with the reason.
  [[nodiscard]] virtual Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const = 0;
};

// Tries each authenticator in order; the first that authenticates wins. When none does, the
// errors of those that failed are the result ("[a, b]" for several, as utilerrors.Aggregate
// prints them), else nullopt.
class TokenUnion final : public TokenAuthenticator {
 public:
  explicit TokenUnion(std::vector<std::shared_ptr<const TokenAuthenticator>> authenticators)
      : authenticators_(std::move(authenticators)) {}
  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

 private:
  std::vector<std::shared_ptr<const TokenAuthenticator>> authenticators_;
};

// For authenticators whose tokens carry no audience (static and bootstrap tokens): they are valid
// for the API audiences only, so they authenticate only when the requested audiences include one
// of those, and the result names the intersection (authenticator.WrapAudienceAgnosticToken).
class AudienceAgnosticToken final : public TokenAuthenticator {
 public:
  AudienceAgnosticToken(std::vector<std::string> apiAudiences,
                        std::shared_ptr<const TokenAuthenticator> inner)
      : apiAudiences_(std::move(apiAudiences)), inner_(std::move(inner)) {}
  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

 private:
  std::vector<std::string> apiAudiences_;
  std::shared_ptr<const TokenAuthenticator> inner_;
};

// Adds system:authenticated to every user the inner authenticator returns, unless the user
// already has it or system:unauthenticated (group.AuthenticatedGroupAdder).
class AuthenticatedGroupAdder final : public TokenAuthenticator {
 public:
  explicit AuthenticatedGroupAdder(std::shared_ptr<const TokenAuthenticator> inner)
      : inner_(std::move(inner)) {}
  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

 private:
  std::shared_ptr<const TokenAuthenticator> inner_;
};

void addAuthenticatedGroup(UserInfo& user);
// The elements of `a` that are also in `b`, in a's order.
std::vector<std::string> intersectAudiences(std::span<const std::string> a,
                                            std::span<const std::string> b);
// Several errors as utilerrors.Aggregate prints them: the message alone for one, "[a, b]" for more.
std::string aggregateMessages(const std::vector<std::string>& messages);

}  // namespace berth::controlplane::auth
