#pragma once
// What a user may do in a namespace, as rules (authorizer.RuleResolver): SelfSubjectRulesReview
// (`kubectl auth can-i --list`) and RBAC's escalation check read it.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/auth/user.h"

namespace berth::controlplane::auth {

struct RuleResolution {
  std::vector<nlohmann::json> rules;  // PolicyRules
  // The rules may not be all the user has (a mode that cannot enumerate them, like Node).
  bool incomplete = false;
  std::vector<std::string> errors;  // evaluation errors (a binding to a missing role...)
};

class RuleResolver {
 public:
  virtual ~RuleResolver() = default;
  // `ns` "": cluster-wide rules only.
  virtual RuleResolution rulesFor(const UserInfo& user, std::string_view ns) const = 0;
};

}  // namespace berth::controlplane::auth
