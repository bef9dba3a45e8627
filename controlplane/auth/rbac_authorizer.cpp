#include "controlplane/auth/rbac_authorizer.h"

#include <algorithm>

#include "controlplane/auth/json_util.h"
#include "controlplane/auth/policy_rule.h"
#include "controlplane/auth/service_account_token.h"
#include "controlplane/auth/token_authenticator.h"

namespace berth::controlplane::auth {

namespace {

constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

std::string describeSubject(const nlohmann::json& subject, std::string_view bindingNamespace) {
  const std::string kind = json::string(subject, "kind");
  const std::string name = json::string(subject, "name");
  if (kind == "ServiceAccount") {
    std::string ns = json::string(subject, "namespace");
    if (ns.empty()) ns = std::string(bindingNamespace);
    return fmt::format("{} {}", kind, nlohmann::json(name + "/" + ns).dump());
  }
  return fmt::format("{} {}", kind, nlohmann::json(name).dump());
}

std::string describeBinding(const nlohmann::json& binding, const nlohmann::json& subject,
                            std::string_view bindingNamespace) {
  const nlohmann::json* roleRef = json::member(binding, "roleRef");
  const std::string kind = roleRef ? json::string(*roleRef, "kind") : "";
  const std::string role = roleRef ? json::string(*roleRef, "name") : "";
  const std::string name = json::meta(binding, "name");
  if (bindingNamespace.empty()) {
    return fmt::format("ClusterRoleBinding {} of {} {} to {}", nlohmann::json(name).dump(), kind,
                       nlohmann::json(role).dump(), describeSubject(subject, bindingNamespace));
  }
  return fmt::format("RoleBinding {} of {} {} to {}",
                     nlohmann::json(name + "/" + std::string(bindingNamespace)).dump(), kind,
                     nlohmann::json(role).dump(), describeSubject(subject, bindingNamespace));
}

// The first subject of the binding that is the user.
const nlohmann::json* appliesTo(const nlohmann::json& binding, const UserInfo& user,
                                std::string_view bindingNamespace) {
  for (const auto& subject : json::array(binding, "subjects")) {
    if (subjectMatches(subject, user, bindingNamespace)) return &subject;
  }
  return nullptr;
}

}  // namespace

bool subjectMatches(const nlohmann::json& subject, const UserInfo& user,
                    std::string_view bindingNamespace) {
  const std::string kind = json::string(subject, "kind");
  const std::string name = json::string(subject, "name");
  if (kind == "User") return user.name == name;
  if (kind == "Group") {
    return std::find(user.groups.begin(), user.groups.end(), name) != user.groups.end();
  }
  if (kind == "ServiceAccount") {
    std::string ns = json::string(subject, "namespace");
    if (ns.empty()) ns = std::string(bindingNamespace);
    return !ns.empty() && user.name == serviceAccountUsername(ns, name);
  }
  return false;
}

void RbacAuthorizer::visitRulesFor(const UserInfo& user, std::string_view ns,
                                   const Visitor& visit) const {
  auto visitBinding = [&](const nlohmann::json& binding, std::string_view bindingNamespace) {
    const nlohmann::json* subject = appliesTo(binding, user, bindingNamespace);
    if (subject == nullptr) return true;
    static const nlohmann::json kNoRef = nlohmann::json::object();
    const nlohmann::json* roleRef = json::member(binding, "roleRef");
    // The authorizer reads roles from informer listers, whose errors name the singular kind.
    auto role = findRole(roleRef != nullptr ? *roleRef : kNoRef, bindingNamespace, true);
    if (!role) return visit({}, nullptr, &role.error().message());
    const std::function<std::string()> describe = [&] {
      return describeBinding(binding, *subject, bindingNamespace);
    };
    for (const auto& rule : json::array((*role)->json(), "rules")) {
      if (!visit(describe, &rule, nullptr)) return false;
    }
    return true;
  };
  for (const auto& binding : lookup_->list(kRbacGroup, "clusterrolebindings", "")) {
    if (!visitBinding(binding->json(), "")) return;
  }
  if (ns.empty()) return;
  for (const auto& binding : lookup_->list(kRbacGroup, "rolebindings", ns)) {
    if (!visitBinding(binding->json(), ns)) return;
  }
}

AuthorizationResult RbacAuthorizer::authorize(const Attributes& attributes) const {
  std::string allowedBy;
  std::vector<std::string> errors;
  visitRulesFor(attributes.user, attributes.namespace_,
                [&](const auto& describe, const nlohmann::json* rule, const std::string* error) {
                  if (error != nullptr) {
                    errors.push_back(*error);
                    return true;
                  }
                  if (!rbac::ruleAllows(attributes, *rule)) return true;
                  allowedBy = describe();
                  return false;
                });
  if (!allowedBy.empty()) return {Decision::kAllow, "RBAC: allowed by " + allowedBy};
  if (errors.empty()) return {Decision::kNoOpinion, ""};
  return {Decision::kNoOpinion, "RBAC: " + aggregateMessages(errors)};
}

RuleResolution RbacAuthorizer::rulesFor(const UserInfo& user, std::string_view ns) const {
  RuleResolution resolution;
  visitRulesFor(user, ns, [&](const auto&, const nlohmann::json* rule, const std::string* error) {
    if (error != nullptr) {
      resolution.errors.push_back(*error);
    } else {
      resolution.rules.push_back(*rule);
    }
    return true;
  });
  return resolution;
}

Result<storage::ObjectPtr> RbacAuthorizer::findRole(const nlohmann::json& roleRef,
                                                    std::string_view bindingNamespace,
                                                    bool singularNames) const {
  const std::string kind = json::string(roleRef, "kind");
  const std::string name = json::string(roleRef, "name");
  if (kind != "ClusterRole" && kind != "Role") {
    return fail(Code::kInvalidArgument, "unsupported role reference kind: \"{}\"", kind);
  }
  auto role = kind == "Role" ? lookup_->get(kRbacGroup, "roles", bindingNamespace, name)
                             : lookup_->get(kRbacGroup, "clusterroles", "", name);
  if (!role) {
    const char* resource = kind == "Role" ? (singularNames ? "role" : "roles")
                                          : (singularNames ? "clusterrole" : "clusterroles");
    return fail(Code::kNotFound, "{}.{} {} not found", resource, kRbacGroup,
                nlohmann::json(name).dump());
  }
  return role;
}

Result<std::vector<nlohmann::json>> RbacAuthorizer::roleReferenceRules(
    const nlohmann::json& roleRef, std::string_view bindingNamespace) const {
  auto role = BERTH_TRY(findRole(roleRef, bindingNamespace, false));
  const auto& rules = json::array(role->json(), "rules");
  return std::vector<nlohmann::json>(rules.begin(), rules.end());
}

}  // namespace berth::controlplane::auth
