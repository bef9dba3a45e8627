#pragma once
// Bootstrap tokens (`<id>.<secret>`, 6 and 16 of [a-z0-9]): Secrets `bootstrap-token-<id>` of type
// bootstrap.kubernetes.io/token in kube-system, as the apiserver's --enable-bootstrap-token-auth
// reads them. The user is system:bootstrap:<id> in system:bootstrappers plus the Secret's
// auth-extra-groups. As upstream, a token whose Secret is missing, deleted, expired, of the wrong
// type, not marked usage-bootstrap-authentication=true or with a different secret is simply not
// authenticated (nullopt, logged at debug), so the request ends in 401.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controlplane/auth/clock.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::auth {

inline constexpr std::string_view kBootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
inline constexpr std::string_view kBootstrapTokenSecretPrefix = "bootstrap-token-";

class BootstrapTokenAuthenticator final : public TokenAuthenticator {
 public:
  BootstrapTokenAuthenticator(std::shared_ptr<const storage::ObjectLookup> lookup, Clock clock)
      : lookup_(std::move(lookup)), clock_(std::move(clock)) {}

  Result<std::optional<TokenAuthentication>> authenticateToken(
      std::string_view token, std::span<const std::string> audiences) const override;

 private:
  std::shared_ptr<const storage::ObjectLookup> lookup_;
  Clock clock_;
};

// Splits a bootstrap token into (id, secret); nullopt when it does not have the form.
std::optional<std::pair<std::string, std::string>> parseBootstrapToken(std::string_view token);

}  // namespace berth::controlplane::auth
