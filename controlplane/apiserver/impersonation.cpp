#include "controlplane/apiserver/impersonation.h"

#include <fmt/format.h>

#include "common/ascii.h"

namespace berth::controlplane::apiserver {
namespace {

constexpr std::string_view kServiceAccountPrefix = "system:serviceaccount:";

// One impersonation the requester must be allowed.
struct Target {
  std::string group;
  std::string resource;
  std::string namespace_;
  std::string name;
};

std::optional<ApiError> check(const Target& t, const auth::UserInfo& requester,
                              const auth::Authorizer& authorizer) {
  auth::Attributes a;
  a.user = requester;
  a.verb = "impersonate";
  a.resourceRequest = true;
  a.apiGroup = t.group;
  a.resource = t.resource;
  a.namespace_ = t.namespace_;
  a.name = t.name;
  auth::AuthorizationResult result = authorizer.authorize(a);
  if (result.decision == auth::Decision::kAllow) return std::nullopt;
  std::string where = t.namespace_.empty()
                          ? "at the cluster scope"
                          : fmt::format("in the namespace {}", nlohmann::json(t.namespace_).dump());
  std::string why =
      fmt::format("User {} cannot impersonate resource {} in API group {} {}",
                  nlohmann::json(requester.name).dump(), nlohmann::json(t.resource).dump(),
                  nlohmann::json(t.group).dump(), where);
  if (!result.reason.empty()) why += ": " + result.reason;
  return kubeapi::forbiddenStatus({t.group, t.resource}, t.name, why);
}

}  // namespace

ApiResult<auth::UserInfo> impersonate(const http::Request& request, const auth::UserInfo& user,
                                      const auth::Authorizer& authorizer) {
  auto name = request.headers.get("Impersonate-User");
  std::vector<std::string> groups = request.headers.values("Impersonate-Group");
  auto uid = request.headers.get("Impersonate-Uid");
  std::map<std::string, std::vector<std::string>> extra;
  constexpr std::string_view kExtra = "impersonate-extra-";
  for (const auto& [field, value] : request.headers.fields()) {
    std::string lowered = asciiLower(field);
    if (lowered.starts_with(kExtra)) extra[lowered.substr(kExtra.size())].push_back(value);
  }
  if (!name) {
    if (!groups.empty() || uid || !extra.empty()) {
      return apiFail(kubeapi::badRequestStatus(
          "requested impersonation of groups, extra or uid without impersonating a user"));
    }
    return user;
  }

  std::vector<Target> targets;
  auth::UserInfo as;
  as.name = std::string(*name);
  if (as.name.starts_with(kServiceAccountPrefix)) {
    std::string rest = as.name.substr(kServiceAccountPrefix.size());
    std::size_t colon = rest.find(':');
    if (colon == std::string::npos) {
      return apiFail(kubeapi::badRequestStatus(
          fmt::format("invalid service account username {}", nlohmann::json(as.name).dump())));
    }
    targets.push_back({"", "serviceaccounts", rest.substr(0, colon), rest.substr(colon + 1)});
    if (groups.empty()) {
      groups = {"system:serviceaccounts", "system:serviceaccounts:" + rest.substr(0, colon)};
    }
  } else {
    targets.push_back({"", "users", "", as.name});
  }
  for (const std::string& g : groups)
    targets.push_back({"", "groups", "", g});
  if (uid) {
    as.uid = std::string(*uid);
    targets.push_back({"authentication.k8s.io", "uids", "", as.uid});
  }
  for (const auto& [key, values] : extra) {
    for (const std::string& v : values) {
      targets.push_back({"authentication.k8s.io", "userextras/" + key, "", v});
    }
  }
  for (const Target& t : targets) {
    if (auto denied = check(t, user, authorizer)) return apiFail(*denied);
  }
  as.groups = groups;
  // Everyone but the anonymous user is authenticated (the filter adds the group).
  bool anonymous = as.name == "system:anonymous";
  if (!anonymous &&
      std::find(as.groups.begin(), as.groups.end(), "system:authenticated") == as.groups.end()) {
    as.groups.push_back("system:authenticated");
  }
  as.extra = std::move(extra);
  return as;
}

}  // namespace berth::controlplane::apiserver
