#pragma once
// What a request path and method ask for, as the apiserver's RequestInfoFactory reads them
// (k8s.io/apiserver endpoints/request/requestinfo.go): the verb (get, list, watch, create, update,
// patch, delete, deletecollection, proxy), the group, version, namespace, resource, name and
// subresource. Authorization, admission and routing all start from it.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace berth::controlplane::apiserver {

struct RequestInfo {
  bool isResourceRequest = false;
  std::string path;       // the request path
  std::string verb;       // resource: see above; otherwise the lowercased HTTP method
  std::string apiPrefix;  // "api" or "apis"
  std::string apiGroup;   // "" for the core group
  std::string apiVersion;
  std::string namespace_;
  std::string resource;
  std::string subresource;
  std::string name;
  std::vector<std::string> parts;  // from the resource on: resource/name/subresource/...
};

// `query` holds the decoded query parameters: `watch` turns a collection get into a watch, and a
// fieldSelector of exactly metadata.name=<x> names the object (so RBAC resourceNames apply to a
// single-object list or watch, as upstream). An error is a path the apiserver can't read
// ("/api/v1/watch" with nothing after it).
[[nodiscard]] Result<RequestInfo> parseRequestInfo(
    std::string_view method, std::string_view path,
    const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace berth::controlplane::apiserver
