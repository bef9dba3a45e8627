#pragma once
// Authentication: who sent a request (k8s.io/apiserver's authenticator.Request chain).
#include <optional>

#include "common/http/server.h"
#include "common/result.h"
#include "controlplane/auth/user.h"

namespace berth::controlplane::auth {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The user behind the request's credentials; nullopt when it carries none this authenticator
  // knows; kUnauthenticated when it carries some that are invalid (expired, bad signature,
  // unknown token). The chain (RequestAuthenticator, authentication.h) tries the others as
  // upstream's union does, and answers 401 with these errors when none authenticates; a bad
  // credential is never taken for an anonymous request.
  [[nodiscard]] virtual Result<std::optional<UserInfo>> authenticate(
      const http::Request& request) const = 0;
};

}  // namespace berth::controlplane::auth
