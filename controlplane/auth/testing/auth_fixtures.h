#pragma once
// For tests of the auth code: request attributes, minimal objects and the fixed issuer and time
// the token tests share.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "controlplane/auth/user.h"

namespace berth::testing {

inline const std::string kIssuer = "https://kubernetes.default.svc.cluster.local";
// 2024-01-01T00:00:00Z
inline const std::chrono::system_clock::time_point kNow =
    std::chrono::system_clock::from_time_t(1704067200);

inline constexpr const char* kRbac = "rbac.authorization.k8s.io";

// A resource request.
inline controlplane::auth::Attributes ask(controlplane::auth::UserInfo user, std::string verb,
                                          std::string resource, std::string ns = {},
                                          std::string name = {}, std::string subresource = {},
                                          std::string group = {}) {
  controlplane::auth::Attributes a;
  a.user = std::move(user);
  a.verb = std::move(verb);
  a.resource = std::move(resource);
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  a.subresource = std::move(subresource);
  a.apiGroup = std::move(group);
  return a;
}

// {"metadata": {"namespace": ns (unless empty), "name": name, "uid": uid}}
inline nlohmann::json objectWithUid(const char* ns, const char* name, const char* uid) {
  nlohmann::json meta = {{"name", name}, {"uid", uid}};
  if (*ns) meta["namespace"] = ns;
  return {{"metadata", meta}};
}

}  // namespace berth::testing
