#pragma once
// apimachinery's schema identifiers: group/version, group+kind, group+resource and their
// versioned forms, with the string forms upstream messages use ("deployments.apps",
// "Deployment.apps", "apps/v1", "v1").
#include <compare>
#include <string>
#include <string_view>

namespace berth::kubeapi {

struct GroupVersion {
  std::string group;  // "" for the core group
  std::string version;

  // "apps/v1", or "v1" for the core group.
  std::string str() const { return group.empty() ? version : group + "/" + version; }
  // Parses an apiVersion: "v1" -> {"", "v1"}, "apps/v1" -> {"apps", "v1"}; more than one '/'
  // is kept whole in the version, as the caller will reject it anyway.
  static GroupVersion parse(std::string_view apiVersion);
  auto operator<=>(const GroupVersion&) const = default;
};

struct GroupKind {
  std::string group;
  std::string kind;
  // "Pod", "Deployment.apps" (schema.GroupKind.String).
  std::string str() const { return group.empty() ? kind : kind + "." + group; }
  auto operator<=>(const GroupKind&) const = default;
};

struct GroupResource {
  std::string group;
  std::string resource;  // plural, lower case
  // "pods", "deployments.apps" (schema.GroupResource.String).
  std::string str() const { return group.empty() ? resource : resource + "." + group; }
  bool empty() const { return group.empty() && resource.empty(); }
  auto operator<=>(const GroupResource&) const = default;
};

struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;
  GroupVersion groupVersion() const { return {group, version}; }
  GroupKind groupKind() const { return {group, kind}; }
  std::string apiVersion() const { return groupVersion().str(); }
  auto operator<=>(const GroupVersionKind&) const = default;
};

struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;
  GroupVersion groupVersion() const { return {group, version}; }
  GroupResource groupResource() const { return {group, resource}; }
  auto operator<=>(const GroupVersionResource&) const = default;
};

}  // namespace berth::kubeapi
