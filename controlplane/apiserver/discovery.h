#pragma once
// API discovery as kube-apiserver serves it: /api, /apis, /api/v1, /apis/<group>[/<version>]
// (APIVersions, APIGroupList, APIGroup, APIResourceList) and the aggregated form
// (apidiscovery.k8s.io/v2 APIGroupDiscoveryList, when the client's Accept asks for it), built
// once from the Registry. Plus /version.
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http/server.h"
#include "controlplane/apiserver/registry.h"

namespace berth::controlplane::apiserver {

class Discovery {
 public:
  Discovery(const Registry& registry, std::string gitVersion);

  // The document for a discovery path, nullopt for other paths.
  std::optional<http::Response> serve(const http::Request& request) const;
  const nlohmann::json& version() const { return version_; }

 private:
  std::map<std::string, std::string> legacy_;  // path -> body
  std::string aggregatedCore_;                 // for /api
  std::string aggregatedGroups_;               // for /apis
  nlohmann::json version_;
};

}  // namespace berth::controlplane::apiserver
