#pragma once
// The REST operations berth-server serves, derived from the ServedResource list, in a form both
// OpenAPI renderings share: kube-apiserver's paths, operation IDs, x-kubernetes-action and
// query parameters (fieldValidation, dryRun, fieldManager, ... which kubectl looks for).
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "controlplane/schema/served.h"

namespace berth::controlplane::schema {

struct ApiParameter {
  std::string name;
  std::string in;    // "path" or "query"
  std::string type;  // "string", "boolean", "integer"
  bool required = false;
  std::string description;
};

struct ApiResponse {
  int code = 200;
  std::string typeName;   // the described type returned, or empty
  bool isString = false;  // a plain string body (pods/log)
};

struct ApiGvk {
  std::string group, version, kind;
};

struct ApiOperation {
  std::string method;  // "get", "put", "post", "patch", "delete", "head", "options"
  std::string operationId;
  std::string description;
  std::string action;  // x-kubernetes-action; empty for discovery
  std::optional<ApiGvk> gvk;
  std::vector<ApiParameter> parameters;
  std::string bodyType;               // the request body's described type, or empty
  std::vector<std::string> consumes;  // request media types
  std::vector<std::string> produces;  // response media types
  std::vector<ApiResponse> responses;
  std::string tag;  // "core_v1", "apps_v1", "version"
};

struct ApiPath {
  std::string path;                      // "/api/v1/namespaces/{namespace}/pods/{name}"
  std::vector<ApiParameter> parameters;  // shared by its operations
  std::vector<ApiOperation> operations;
};

// Every path of the served resources, the discovery paths of their groups, and /version/.
std::vector<ApiPath> buildApiPaths(std::span<const ServedResource> served);

}  // namespace berth::controlplane::schema
