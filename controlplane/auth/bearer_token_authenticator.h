#pragma once
// `Authorization: Bearer <token>` (bearertoken.Authenticator): the token goes to the token
// authenticators with the API audiences. A request without the header, with another scheme or an
// empty token carries no bearer credentials (nullopt); a token nobody accepts is kUnauthenticated
// "invalid bearer token", and "[invalid bearer token, <why>]" when an authenticator said why, as
// kube-apiserver reports it.
#include <memory>
#include <string>
#include <vector>

#include "controlplane/auth/authenticator.h"
#include "controlplane/auth/token_authenticator.h"

namespace berth::controlplane::auth {

class BearerTokenAuthenticator final : public Authenticator {
 public:
  BearerTokenAuthenticator(std::shared_ptr<const TokenAuthenticator> tokens,
                           std::vector<std::string> apiAudiences)
      : tokens_(std::move(tokens)), apiAudiences_(std::move(apiAudiences)) {}

  Result<std::optional<UserInfo>> authenticate(const http::Request& request) const override;

 private:
  std::shared_ptr<const TokenAuthenticator> tokens_;
  std::vector<std::string> apiAudiences_;
};

// The first value of a header field, by case-insensitive name (nullopt when absent).
std::optional<std::string_view> headerValue(const http::Headers& headers, std::string_view name);

}  // namespace berth::controlplane::auth
