#pragma once
// Authorization (k8s.io/apiserver's authorizer.Authorizer): a chain of authorizers
// (--authorization-mode=Node,RBAC) where the first Allow or Deny wins.
#include <string>

#include "controlplane/auth/user.h"

namespace berth::controlplane::auth {

enum class Decision { kNoOpinion, kAllow, kDeny };

struct AuthorizationResult {
  Decision decision = Decision::kNoOpinion;
  std::string reason;  // why (RBAC: the binding and role that allowed it), shown in 403 bodies
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual AuthorizationResult authorize(const Attributes& attributes) const = 0;
};

}  // namespace berth::controlplane::auth
