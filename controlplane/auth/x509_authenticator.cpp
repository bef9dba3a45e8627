#include "controlplane/auth/x509_authenticator.h"

#include "controlplane/auth/crypto_names.h"
#include "controlplane/auth/rfc3339.h"

namespace berth::controlplane::auth {

Result<std::optional<UserInfo>> X509Authenticator::authenticate(
    const http::Request& request) const {
  if (!request.peerCertificate) return std::optional<UserInfo>();
  const http::PeerCertificate& peer = *request.peerCertificate;
  UserInfo user;
  if (!peer.pem.empty()) {
    auto certificate = Certificate::fromPem(peer.pem);
    if (!certificate) {
      return fail(Code::kUnauthenticated, "client certificate: {}", certificate.error().message());
    }
    if (!certificate->allowsExtendedUsage("client auth")) {
      return fail(Code::kUnauthenticated,
                  "verifying certificate CN={} failed: x509: certificate specifies an incompatible "
                  "key usage",
                  certificate->commonName());
    }
    const auto now = clock_();
    if (now > certificate->notAfter() || now < certificate->notBefore()) {
      const bool expired = now > certificate->notAfter();
      return fail(Code::kUnauthenticated,
                  "verifying certificate CN={} failed: x509: certificate has expired or is not "
                  "yet valid: current time {} is {} {}",
                  certificate->commonName(), formatRfc3339(now), expired ? "after" : "before",
                  formatRfc3339(expired ? certificate->notAfter() : certificate->notBefore()));
    }
    auto fingerprint = certificate->sha256Hex();
    if (!fingerprint) return fail(Code::kInternal, fingerprint.error().message());
    user.extra[std::string(kCredentialIdKey)] = {"X509SHA256=" + *fingerprint};
  }
  if (peer.commonName.empty()) return std::optional<UserInfo>();
  user.name = peer.commonName;
  user.groups = peer.organizations;
  return std::optional<UserInfo>(std::move(user));
}

}  // namespace berth::controlplane::auth
