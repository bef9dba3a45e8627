#include "controlplane/auth/authorization.h"

#include <algorithm>
#include <set>

#include <fmt/ranges.h>

#include "controlplane/auth/node_authorizer.h"
#include "controlplane/auth/token_authenticator.h"

namespace berth::controlplane::auth {

namespace {

class PrivilegedGroupAuthorizer final : public Authorizer {
 public:
  AuthorizationResult authorize(const Attributes& attributes) const override {
    const auto& groups = attributes.user.groups;
    if (std::find(groups.begin(), groups.end(), kMastersGroup) != groups.end()) {
      return {Decision::kAllow, ""};
    }
    return {Decision::kNoOpinion, ""};
  }
};

class AlwaysAllowAuthorizer final : public Authorizer, public RuleResolver {
 public:
  AuthorizationResult authorize(const Attributes&) const override { return {Decision::kAllow, ""}; }
  RuleResolution rulesFor(const UserInfo&, std::string_view) const override {
    RuleResolution resolution;
    resolution.rules = {{{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}},
                        {{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}};
    return resolution;
  }
};

class AlwaysDenyAuthorizer final : public Authorizer, public RuleResolver {
 public:
  AuthorizationResult authorize(const Attributes&) const override {
    return {Decision::kNoOpinion, "Everything is forbidden."};
  }
  RuleResolution rulesFor(const UserInfo&, std::string_view) const override { return {}; }
};

}  // namespace

Result<std::vector<AuthorizationMode>> parseAuthorizationModes(std::string_view flag) {
  std::vector<AuthorizationMode> modes;
  std::set<std::string> seen;
  std::vector<std::string> names;
  for (std::size_t start = 0; start <= flag.size();) {
    auto comma = flag.find(',', start);
    if (comma == std::string_view::npos) comma = flag.size();
    names.emplace_back(flag.substr(start, comma - start));
    start = comma + 1;
  }
  for (const auto& name : names) {
    if (name == "AlwaysAllow") {
      modes.push_back(AuthorizationMode::kAlwaysAllow);
    } else if (name == "AlwaysDeny") {
      modes.push_back(AuthorizationMode::kAlwaysDeny);
    } else if (name == "Node") {
      modes.push_back(AuthorizationMode::kNode);
    } else if (name == "RBAC") {
      modes.push_back(AuthorizationMode::kRbac);
    } else if (name == "ABAC" || name == "Webhook") {
      return fail(Code::kInvalidArgument,
                  "authorization-mode \"{}\" is not supported by berth-server", name);
    } else {
      return fail(Code::kInvalidArgument, "authorization-mode \"{}\" is not a valid mode", name);
    }
    if (!seen.insert(name).second) {
      return fail(Code::kInvalidArgument,
                  "authorization-mode \"{}\" has mode specified more than once", std::string(flag));
    }
  }
  return modes;
}

AuthorizationResult AuthorizerUnion::authorize(const Attributes& attributes) const {
  std::vector<std::string> reasons;
  for (const auto& authorizer : authorizers_) {
    AuthorizationResult result = authorizer->authorize(attributes);
    if (result.decision != Decision::kNoOpinion) return result;
    if (!result.reason.empty()) reasons.push_back(std::move(result.reason));
  }
  return {Decision::kNoOpinion, fmt::format("{}", fmt::join(reasons, "\n"))};
}

RuleResolution AuthorizerUnion::rulesFor(const UserInfo& user, std::string_view ns) const {
  RuleResolution all;
  for (const auto& resolver : resolvers_) {
    RuleResolution one = resolver->rulesFor(user, ns);
    all.incomplete = all.incomplete || one.incomplete;
    all.rules.insert(all.rules.end(), one.rules.begin(), one.rules.end());
    all.errors.insert(all.errors.end(), one.errors.begin(), one.errors.end());
  }
  return all;
}

Authorization buildAuthorization(const std::vector<AuthorizationMode>& modes,
                                 std::shared_ptr<const storage::ObjectLookup> lookup) {
  Authorization authorization;
  std::vector<std::shared_ptr<const Authorizer>> authorizers = {
      std::make_shared<PrivilegedGroupAuthorizer>()};
  std::vector<std::shared_ptr<const RuleResolver>> resolvers;
  for (auto mode : modes) {
    switch (mode) {
      case AuthorizationMode::kAlwaysAllow: {
        auto allow = std::make_shared<AlwaysAllowAuthorizer>();
        authorizers.push_back(allow);
        resolvers.push_back(allow);
        break;
      }
      case AuthorizationMode::kAlwaysDeny: {
        auto deny = std::make_shared<AlwaysDenyAuthorizer>();
        authorizers.push_back(deny);
        resolvers.push_back(deny);
        break;
      }
      case AuthorizationMode::kNode: {
        auto node = std::make_shared<NodeAuthorizer>(lookup);
        authorizers.push_back(node);
        resolvers.push_back(node);
        break;
      }
      case AuthorizationMode::kRbac: {
        auto rbac = std::make_shared<RbacAuthorizer>(lookup);
        authorizers.push_back(rbac);
        resolvers.push_back(rbac);
        authorization.rbac = rbac;
        break;
      }
    }
  }
  auto chain = std::make_shared<AuthorizerUnion>(std::move(authorizers), std::move(resolvers));
  authorization.authorizer = chain;
  authorization.rules = chain;
  if (authorization.rbac) {
    authorization.escalation = std::make_shared<EscalationCheck>(chain, authorization.rbac);
  }
  return authorization;
}

std::string forbiddenMessage(const Attributes& attributes, std::string_view reason) {
  auto quoted = [](std::string_view text) { return nlohmann::json(text).dump(); };
  std::string message;
  if (!attributes.resourceRequest) {
    message = fmt::format("User {} cannot {} path {}", quoted(attributes.user.name),
                          attributes.verb, quoted(attributes.path));
  } else {
    std::string resource = attributes.resource;
    if (!attributes.subresource.empty()) resource += "/" + attributes.subresource;
    if (!attributes.namespace_.empty()) {
      message = fmt::format("User {} cannot {} resource {} in API group {} in the namespace {}",
                            quoted(attributes.user.name), attributes.verb, quoted(resource),
                            quoted(attributes.apiGroup), quoted(attributes.namespace_));
    } else {
      message = fmt::format("User {} cannot {} resource {} in API group {} at the cluster scope",
                            quoted(attributes.user.name), attributes.verb, quoted(resource),
                            quoted(attributes.apiGroup));
    }
  }
  // Avoid emitting errors that look like HTML, as the apiserver does (quotes are fine).
  std::string sanitized;
  for (char c : message) {
    if (c == '&') {
      sanitized += "&amp;";
    } else if (c == '<') {
      sanitized += "&lt;";
    } else if (c == '>') {
      sanitized += "&gt;";
    } else {
      sanitized += c;
    }
  }
  message = std::move(sanitized);
  if (!reason.empty()) message += fmt::format(": {}", reason);
  // apierrors.NewForbidden(groupResource, name, err)
  std::string qualified = attributes.resourceRequest ? attributes.resource : std::string();
  if (!qualified.empty() && !attributes.apiGroup.empty()) qualified += "." + attributes.apiGroup;
  if (qualified.empty()) return "forbidden: " + message;
  if (attributes.name.empty()) return fmt::format("{} is forbidden: {}", qualified, message);
  return fmt::format("{} {} is forbidden: {}", qualified, quoted(attributes.name), message);
}

}  // namespace berth::controlplane::auth
