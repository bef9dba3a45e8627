#pragma once
// Client certificate authentication: the HTTP server verified the chain against the client CA at
// the handshake and hands over the leaf; the user is its subject CN, the groups its subject O
// values, with the credential id X509SHA256=<hex of the certificate's SHA-256> (x509.
// CommonNameUserConversion). A certificate without a CN authenticates nobody; one whose extended
// key usage excludes client auth is refused, as Go's verification with ExtKeyUsageClientAuth is.
// Validity is checked on every request, not only at the handshake (the apiserver verifies the
// chain per request), so a connection outliving its certificate is refused from then on.
#include "controlplane/auth/authenticator.h"
#include "controlplane/auth/clock.h"

namespace berth::controlplane::auth {

class X509Authenticator final : public Authenticator {
 public:
  explicit X509Authenticator(Clock clock = systemClock()) : clock_(std::move(clock)) {}
  Result<std::optional<UserInfo>> authenticate(const http::Request& request) const override;

 private:
  Clock clock_;
};

}  // namespace berth::controlplane::auth
