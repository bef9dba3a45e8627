#include "controlplane/auth/access_review.h"

#include <fmt/ranges.h>

#include "controlplane/auth/json_util.h"
#include "controlplane/auth/token_authenticator.h"
#include "controlplane/auth/token_review.h"

namespace berth::controlplane::auth {

namespace {

const nlohmann::json& specOf(const nlohmann::json& review) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const auto* spec = json::member(review, "spec");
  return spec != nullptr && spec->is_object() ? *spec : kEmpty;
}

bool present(const nlohmann::json& spec, std::string_view key) {
  const auto* value = json::member(spec, key);
  return value != nullptr && !value->is_null();
}

std::unexpected<Error> invalid(std::string_view kind, std::vector<std::string> causes) {
  const std::string body =
      causes.size() == 1 ? causes.front() : fmt::format("[{}]", fmt::join(causes, ", "));
  return fail(Code::kInvalidArgument, "{}.authorization.k8s.io \"\" is invalid: {}", kind, body);
}

// The attribute checks every access review shares; `self` reviews have no user in the spec.
std::vector<std::string> validateAttributes(const nlohmann::json& spec) {
  std::vector<std::string> causes;
  const bool resource = present(spec, "resourceAttributes");
  const bool nonResource = present(spec, "nonResourceAttributes");
  if (resource && nonResource) {
    causes.push_back(fmt::format(
        "spec.nonResourceAttributes: Invalid value: {}: cannot be specified in combination with "
        "resourceAttributes",
        nlohmann::json(spec["nonResourceAttributes"].dump()).dump()));
  }
  if (!resource && !nonResource) {
    causes.push_back(
        "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes "
        "or resourceAttributes must be specified");
  }
  return causes;
}

nlohmann::json accessStatus(const AuthorizationResult& result) {
  nlohmann::json status = {{"allowed", result.decision == Decision::kAllow}};
  if (result.decision == Decision::kDeny) status["denied"] = true;
  if (!result.reason.empty()) status["reason"] = result.reason;
  return status;
}

UserInfo specUser(const nlohmann::json& spec) {
  UserInfo user;
  user.name = json::string(spec, "user");
  user.uid = json::string(spec, "uid");
  user.groups = json::strings(spec, "groups");
  if (const auto* extra = json::member(spec, "extra"); extra != nullptr && extra->is_object()) {
    for (const auto& [key, values] : extra->items()) {
      user.extra[key] = json::strings(*extra, key);
    }
  }
  return user;
}

}  // namespace

Attributes reviewAttributes(const UserInfo& user, const nlohmann::json& spec) {
  Attributes attributes;
  attributes.user = user;
  if (const auto* resource = json::member(spec, "resourceAttributes");
      resource != nullptr && resource->is_object()) {
    attributes.resourceRequest = true;
    attributes.verb = json::string(*resource, "verb");
    attributes.namespace_ = json::string(*resource, "namespace");
    attributes.apiGroup = json::string(*resource, "group");
    attributes.apiVersion = json::string(*resource, "version");
    // (std::string(1, c): GCC 12 warns falsely on assigning a one-character literal here.)
    if (attributes.apiVersion.empty()) attributes.apiVersion = std::string(1, '*');
    attributes.resource = json::string(*resource, "resource");
    attributes.subresource = json::string(*resource, "subresource");
    attributes.name = json::string(*resource, "name");
    attributes.fieldSelector = json::stringAt(*resource, {"fieldSelector", "rawSelector"});
    attributes.labelSelector = json::stringAt(*resource, {"labelSelector", "rawSelector"});
  } else if (const auto* nonResource = json::member(spec, "nonResourceAttributes")) {
    attributes.resourceRequest = false;
    attributes.verb = json::string(*nonResource, "verb");
    attributes.path = json::string(*nonResource, "path");
  }
  return attributes;
}

Result<nlohmann::json> reviewSubjectAccess(const Authorizer& authorizer, nlohmann::json review) {
  if (!review.is_object()) review = nlohmann::json::object();
  const nlohmann::json& spec = specOf(review);
  auto causes = validateAttributes(spec);
  if (json::string(spec, "user").empty() && json::strings(spec, "groups").empty()) {
    causes.push_back(
        "spec.user: Invalid value: \"\": at least one of user or group must be "
        "specified");
  }
  if (!causes.empty()) return invalid("SubjectAccessReview", std::move(causes));
  auto result = authorizer.authorize(reviewAttributes(specUser(spec), spec));
  review["status"] = accessStatus(result);
  return review;
}

Result<nlohmann::json> reviewLocalSubjectAccess(const Authorizer& authorizer, std::string_view ns,
                                                nlohmann::json review) {
  if (!review.is_object()) review = nlohmann::json::object();
  if (ns.empty()) {
    return fail(Code::kFailedPrecondition, "namespace is required on this type: ");
  }
  const nlohmann::json& spec = specOf(review);
  auto causes = validateAttributes(spec);
  if (present(spec, "nonResourceAttributes")) {
    causes.push_back(
        fmt::format("spec.nonResourceAttributes: Invalid value: {}: disallowed on "
                    "this kind of request",
                    nlohmann::json(spec["nonResourceAttributes"].dump()).dump()));
  }
  if (json::string(spec, "user").empty() && json::strings(spec, "groups").empty()) {
    causes.push_back(
        "spec.user: Invalid value: \"\": at least one of user or group must be "
        "specified");
  }
  if (!causes.empty()) return invalid("LocalSubjectAccessReview", std::move(causes));
  if (json::stringAt(spec, {"resourceAttributes", "namespace"}) != ns) {
    return fail(Code::kFailedPrecondition,
                "spec.resourceAttributes.namespace must match namespace: {}", ns);
  }
  auto result = authorizer.authorize(reviewAttributes(specUser(spec), spec));
  review["status"] = accessStatus(result);
  return review;
}

Result<nlohmann::json> reviewSelfSubjectAccess(const Authorizer& authorizer, const UserInfo& user,
                                               nlohmann::json review) {
  if (!review.is_object()) review = nlohmann::json::object();
  if (!review.is_object()) review = nlohmann::json::object();
  const nlohmann::json& spec = specOf(review);
  auto causes = validateAttributes(spec);
  if (!causes.empty()) return invalid("SelfSubjectAccessReview", std::move(causes));
  auto result = authorizer.authorize(reviewAttributes(user, spec));
  review["status"] = accessStatus(result);
  return review;
}

Result<nlohmann::json> reviewSelfSubjectRules(const RuleResolver& rules, const UserInfo& user,
                                              nlohmann::json review) {
  const std::string ns = json::string(specOf(review), "namespace");
  if (ns.empty()) return fail(Code::kFailedPrecondition, "no namespace on request");
  RuleResolution resolution = rules.rulesFor(user, ns);
  nlohmann::json resourceRules = nlohmann::json::array();
  nlohmann::json nonResourceRules = nlohmann::json::array();
  for (const auto& rule : resolution.rules) {
    const auto& verbs = json::array(rule, "verbs");
    if (!json::array(rule, "resources").empty()) {
      nlohmann::json out = {{"verbs", verbs}};
      for (const char* key : {"apiGroups", "resources", "resourceNames"}) {
        if (!json::array(rule, key).empty()) out[key] = json::array(rule, key);
      }
      resourceRules.push_back(std::move(out));
    }
    if (!json::array(rule, "nonResourceURLs").empty()) {
      nonResourceRules.push_back(
          {{"verbs", verbs}, {"nonResourceURLs", json::array(rule, "nonResourceURLs")}});
    }
  }
  nlohmann::json status = {{"resourceRules", std::move(resourceRules)},
                           {"nonResourceRules", std::move(nonResourceRules)},
                           {"incomplete", resolution.incomplete}};
  if (!resolution.errors.empty()) status["evaluationError"] = aggregateMessages(resolution.errors);
  review["status"] = std::move(status);
  return review;
}

nlohmann::json reviewSelf(const UserInfo& user, nlohmann::json review) {
  if (!review.is_object()) review = nlohmann::json::object();
  review["status"] = {{"userInfo", userInfoJson(user)}};
  return review;
}

}  // namespace berth::controlplane::auth
