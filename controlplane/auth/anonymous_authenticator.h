#pragma once
// Anonymous requests (--anonymous-auth with the AnonymousAuthConfigurableEndpoints conditions of
// 1.32): a request without credentials to one of `paths` (or below it: "/healthz/ping" under
// "/healthz") is system:anonymous in system:unauthenticated, for the authorizer to judge; any
// other request without credentials is not authenticated (401).
#include <string>
#include <vector>

#include "controlplane/auth/authenticator.h"

namespace berth::controlplane::auth {

class AnonymousAuthenticator final : public Authenticator {
 public:
  explicit AnonymousAuthenticator(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  // The paths upstream leaves open to anyone: /healthz, /livez, /readyz, /version.
  static std::vector<std::string> defaultPaths();

  Result<std::optional<UserInfo>> authenticate(const http::Request& request) const override;

 private:
  std::vector<std::string> paths_;
};

}  // namespace berth::controlplane::auth
