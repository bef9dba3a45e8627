#pragma once
// /openapi/v2 and /openapi/v3 of berth-server, derived from the type descriptions and the
// ServedResource list: kubectl explain reads v3, client-side apply takes merge keys from it, and
// kubectl looks for the fieldValidation parameter of the namespace PATCH operation in
// /openapi/v3/api/v1 to decide that the server validates fields itself.
//
// Documents are built on request and not kept (they are megabytes of JSON and rarely asked for:
// kubectl caches them by hash); only their hashes are kept once computed.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/schema/registry.h"
#include "controlplane/schema/served.h"

namespace berth::controlplane::schema {

class OpenApi {
 public:
  // `serverVersion` is info.version ("v1.32.0").
  OpenApi(const Registry& registry, std::vector<ServedResource> served, std::string serverVersion);

  // The Swagger 2.0 document of everything served.
  std::string v2() const;
  // The discovery index: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=H"}}}.
  std::string v3Index() const;
  // One OpenAPI 3.0 document: "api", "api/v1", "apis", "apis/<group>", "apis/<group>/<version>",
  // "version"; nullopt for any other name (a 404).
  std::optional<std::string> v3(std::string_view name) const;
  // The hash the index names for a document (upper-case hex SHA-512 of its text, upstream's
  // ETag), nullopt for an unknown name.
  std::optional<std::string> v3Hash(std::string_view name) const;
  // The document names, sorted.
  std::vector<std::string> v3Names() const;

 private:
  const Registry& registry_;
  std::vector<ServedResource> served_;
  std::string version_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::string, std::less<>> hashes_;
};

}  // namespace berth::controlplane::schema
