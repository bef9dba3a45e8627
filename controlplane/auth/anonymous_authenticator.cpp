#include "controlplane/auth/anonymous_authenticator.h"

namespace berth::controlplane::auth {

std::vector<std::string> AnonymousAuthenticator::defaultPaths() {
  return {"/healthz", "/livez", "/readyz", "/version"};
}

Result<std::optional<UserInfo>> AnonymousAuthenticator::authenticate(
    const http::Request& request) const {
  for (const auto& path : paths_) {
    if (request.path == path ||
        (request.path.starts_with(path) && request.path[path.size()] == '/')) {
      UserInfo user;
      user.name = std::string(kAnonymousUser);
      user.groups = {std::string(kUnauthenticatedGroup)};
      return std::optional<UserInfo>(std::move(user));
    }
  }
  return std::optional<UserInfo>();
}

}  // namespace berth::controlplane::auth
