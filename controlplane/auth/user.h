#pragma once
// Who made a request and what it asks to do: k8s.io/apiserver's user.Info and
// authorizer.Attributes, shared by authentication, authorization, admission and the handlers.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace berth::controlplane::auth {

// Well-known users, groups and extra keys (k8s.io/apiserver/pkg/authentication/user and
// .../serviceaccount).
inline constexpr std::string_view kAuthenticatedGroup = "system:authenticated";
inline constexpr std::string_view kUnauthenticatedGroup = "system:unauthenticated";
inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kMastersGroup = "system:masters";
inline constexpr std::string_view kNodesGroup = "system:nodes";
inline constexpr std::string_view kNodeUserPrefix = "system:node:";
inline constexpr std::string_view kServiceAccountUserPrefix = "system:serviceaccount:";
inline constexpr std::string_view kServiceAccountsGroup = "system:serviceaccounts";
inline constexpr std::string_view kBootstrapUserPrefix = "system:bootstrap:";
inline constexpr std::string_view kBootstrappersGroup = "system:bootstrappers";
inline constexpr std::string_view kCredentialIdKey = "authentication.kubernetes.io/credential-id";
inline constexpr std::string_view kPodNameKey = "authentication.kubernetes.io/pod-name";
inline constexpr std::string_view kPodUidKey = "authentication.kubernetes.io/pod-uid";
inline constexpr std::string_view kNodeNameKey = "authentication.kubernetes.io/node-name";
inline constexpr std::string_view kNodeUidKey = "authentication.kubernetes.io/node-uid";

struct UserInfo {
  std::string name;  // "system:node:n1", "system:serviceaccount:ns:sa", "admin"
  std::string uid;
  std::vector<std::string> groups;  // always ends with "system:authenticated" once authenticated
  std::map<std::string, std::vector<std::string>>
      extra;  // e.g. authentication.kubernetes.io/pod-name
};

// The request as the authorizer sees it (authorizer.AttributesRecord).
struct Attributes {
  UserInfo user;
  std::string verb;  // get list watch create update patch delete deletecollection; or the HTTP verb
                     // lowercased for a non-resource request; "impersonate", "bind", "escalate"...
  bool resourceRequest = true;
  std::string apiGroup;  // "" core
  std::string apiVersion;
  std::string resource;     // "pods"
  std::string subresource;  // "status", "log", ...
  std::string namespace_;   // "" for cluster-scoped or all namespaces
  std::string name;         // "" for list/create/collection requests
  std::string path;         // non-resource requests: "/healthz"
  // The request's ?fieldSelector= and ?labelSelector=, as sent (1.32's AuthorizeWithSelectors:
  // the Node authorizer lets a node list and watch pods only with spec.nodeName=<itself>). Added
  // to the interface for that. For a list or watch whose field selector pins metadata.name=<x>,
  // `name` is <x>, as the apiserver's RequestInfo sets it.
  std::string fieldSelector;
  std::string labelSelector;
};

}  // namespace berth::controlplane::auth
