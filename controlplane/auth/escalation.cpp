#include "controlplane/auth/escalation.h"

#include <algorithm>
#include <set>

#include <fmt/ranges.h>

#include "controlplane/auth/json_util.h"
#include "controlplane/auth/policy_rule.h"

namespace berth::controlplane::auth {

namespace {

constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

bool inMasters(const UserInfo& user) {
  return std::find(user.groups.begin(), user.groups.end(), kMastersGroup) != user.groups.end();
}

std::string quotedList(const std::vector<std::string>& values) {
  std::vector<std::string> quoted;
  for (const auto& value : values)
    quoted.push_back(nlohmann::json(value).dump());
  return fmt::format("[{}]", fmt::join(quoted, " "));
}

std::unexpected<Error> forbidden(std::string_view resource, std::string_view name,
                                 std::string_view why) {
  return fail(Code::kPermissionDenied, "{}.{} {} is forbidden: {}", resource, kRbacGroup,
              nlohmann::json(name).dump(), why);
}

const std::vector<nlohmann::json>& fullAuthority() {
  static const std::vector<nlohmann::json> rules = {
      {{"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}},
      {{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}},
  };
  return rules;
}

}  // namespace

bool isOnlyMutatingGcFields(const nlohmann::json& object, const nlohmann::json& old) {
  if (!object.is_object() || !old.is_object()) return false;
  nlohmann::json copy = object;
  nlohmann::json& meta = copy["metadata"];
  if (!meta.is_object()) meta = nlohmann::json::object();
  for (const char* field : {"ownerReferences", "finalizers", "selfLink", "deletionTimestamp",
                            "deletionGracePeriodSeconds"}) {
    if (const auto* oldValue = json::path(old, {"metadata", field})) {
      meta[field] = *oldValue;
    } else {
      meta.erase(field);
    }
  }
  return copy == old;
}

bool EscalationCheck::authorized(const UserInfo& user, std::string_view verb,
                                 std::string_view resource, std::string_view ns,
                                 std::string_view name) const {
  Attributes attributes;
  attributes.user = user;
  attributes.verb = std::string(verb);
  attributes.apiGroup = std::string(kRbacGroup);
  attributes.apiVersion = std::string(1, '*');  // GCC 12 warns falsely on = "*"
  attributes.resource = std::string(resource);
  attributes.namespace_ = std::string(ns);
  attributes.name = std::string(name);
  return authorizer_->authorize(attributes).decision == Decision::kAllow;
}

Status EscalationCheck::confirmNoEscalation(const UserInfo& user, std::string_view ns,
                                            const std::vector<nlohmann::json>& rules) const {
  RuleResolution owner = rbac_->rulesFor(user, ns);
  auto [covered, missing] = rbac::covers(owner.rules, rules);
  if (covered) return {};
  std::set<std::string> descriptions;  // sorted, as sets.String.List() prints them
  for (const auto& rule : rbac::compactRules(missing)) {
    descriptions.insert(rbac::compactString(rule));
  }
  std::string message = fmt::format(
      "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
      nlohmann::json(user.name).dump(), quotedList(user.groups), fmt::join(descriptions, "\n"));
  if (!owner.errors.empty()) {
    message += fmt::format("; resolution errors: [{}]", fmt::join(owner.errors, " "));
  }
  return fail(Code::kPermissionDenied, message);
}

Status EscalationCheck::checkRoleWrite(const UserInfo& user, std::string_view resource,
                                       std::string_view ns, const nlohmann::json& role,
                                       const nlohmann::json* old) const {
  const std::string name = json::meta(role, "name");
  if (inMasters(user) ||
      authorized(user, "escalate", resource, ns, old != nullptr ? name : std::string())) {
    return {};
  }
  if (old != nullptr && isOnlyMutatingGcFields(role, *old)) return {};
  const auto& rules = json::array(role, "rules");
  if (auto st = confirmNoEscalation(user, ns, {rules.begin(), rules.end()}); !st) {
    return forbidden(resource, name, st.error().message());
  }
  const bool aggregates = json::member(role, "aggregationRule") != nullptr ||
                          (old != nullptr && json::member(*old, "aggregationRule") != nullptr);
  if (resource == "clusterroles" && aggregates && !confirmNoEscalation(user, "", fullAuthority())) {
    return forbidden(resource, name,
                     "must have cluster-admin privileges to use the aggregationRule");
  }
  return {};
}

Status EscalationCheck::checkBindingWrite(const UserInfo& user, std::string_view resource,
                                          std::string_view ns, const nlohmann::json& binding,
                                          const nlohmann::json* old) const {
  if (inMasters(user)) return {};
  if (old != nullptr && isOnlyMutatingGcFields(binding, *old)) return {};
  static const nlohmann::json kNoRef = nlohmann::json::object();
  const auto* roleRef = json::member(binding, "roleRef");
  const nlohmann::json& ref = roleRef != nullptr ? *roleRef : kNoRef;
  const std::string kind = json::string(ref, "kind");
  if ((kind == "ClusterRole" || kind == "Role") &&
      authorized(user, "bind", kind == "Role" ? "roles" : "clusterroles", ns,
                 json::string(ref, "name"))) {
    return {};
  }
  auto rules = BERTH_TRY(rbac_->roleReferenceRules(ref, ns));
  if (auto st = confirmNoEscalation(user, ns, rules); !st) {
    return forbidden(resource, json::meta(binding, "name"), st.error().message());
  }
  return {};
}

}  // namespace berth::controlplane::auth
