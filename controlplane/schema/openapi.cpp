#include "controlplane/schema/openapi.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "controlplane/schema/openapi_paths.h"
#include "controlplane/schema/openapi_schema.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

std::string_view statusText(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 401:
      return "Unauthorized";
    default:
      return "";
  }
}

json securityScheme() {
  return {{"BearerToken",
           {{"description", "Bearer Token authentication"},
            {"in", "header"},
            {"name", "authorization"},
            {"type", "apiKey"}}}};
}

json gvkJson(const ApiGvk& g) {
  return {{"group", g.group}, {"version", g.version}, {"kind", g.kind}};
}

json paramV2(const ApiParameter& p) {
  json j = {{"name", p.name},
            {"in", p.in},
            {"type", p.type},
            {"description", p.description},
            {"uniqueItems", true}};
  if (p.required) j["required"] = true;
  return j;
}

json paramV3(const ApiParameter& p) {
  json j = {{"name", p.name},
            {"in", p.in},
            {"description", p.description},
            {"schema", {{"type", p.type}, {"uniqueItems", true}}}};
  if (p.required) j["required"] = true;
  return j;
}

json operationV2(const ApiOperation& o) {
  json j = {{"description", o.description}, {"operationId", o.operationId},
            {"consumes", o.consumes},       {"produces", o.produces},
            {"schemes", {"https"}},         {"tags", {o.tag}}};
  json parameters = json::array();
  if (!o.bodyType.empty())
    parameters.push_back({{"name", "body"},
                          {"in", "body"},
                          {"required", true},
                          {"schema", {{"$ref", schemaRef(o.bodyType, OpenApiFlavor::kV2)}}}});
  for (const ApiParameter& p : o.parameters)
    parameters.push_back(paramV2(p));
  if (!parameters.empty()) j["parameters"] = std::move(parameters);
  json responses = json::object();
  for (const ApiResponse& r : o.responses) {
    json resp = {{"description", statusText(r.code)}};
    if (r.isString) resp["schema"] = {{"type", "string"}};
    if (!r.typeName.empty()) resp["schema"] = {{"$ref", schemaRef(r.typeName, OpenApiFlavor::kV2)}};
    responses[std::to_string(r.code)] = std::move(resp);
  }
  j["responses"] = std::move(responses);
  if (!o.action.empty()) j["x-kubernetes-action"] = o.action;
  if (o.gvk) j["x-kubernetes-group-version-kind"] = gvkJson(*o.gvk);
  return j;
}

json operationV3(const ApiOperation& o) {
  json j = {{"description", o.description}, {"operationId", o.operationId}, {"tags", {o.tag}}};
  json parameters = json::array();
  for (const ApiParameter& p : o.parameters)
    parameters.push_back(paramV3(p));
  if (!parameters.empty()) j["parameters"] = std::move(parameters);
  if (!o.bodyType.empty()) {
    json content = json::object();
    for (const std::string& type : o.consumes)
      content[type] = {{"schema", {{"$ref", schemaRef(o.bodyType, OpenApiFlavor::kV3)}}}};
    j["requestBody"] = {{"content", std::move(content)}, {"required", true}};
  }
  json responses = json::object();
  for (const ApiResponse& r : o.responses) {
    json resp = {{"description", statusText(r.code)}};
    if (r.isString || !r.typeName.empty()) {
      json schema = r.isString ? json{{"type", "string"}}
                               : json{{"$ref", schemaRef(r.typeName, OpenApiFlavor::kV3)}};
      json content = json::object();
      for (const std::string& type : o.produces)
        content[type] = {{"schema", schema}};
      resp["content"] = std::move(content);
    }
    responses[std::to_string(r.code)] = std::move(resp);
  }
  j["responses"] = std::move(responses);
  if (!o.action.empty()) j["x-kubernetes-action"] = o.action;
  if (o.gvk) j["x-kubernetes-group-version-kind"] = gvkJson(*o.gvk);
  return j;
}

json pathItem(const ApiPath& p, OpenApiFlavor flavor) {
  json j = json::object();
  for (const ApiOperation& o : p.operations)
    j[o.method] = flavor == OpenApiFlavor::kV2 ? operationV2(o) : operationV3(o);
  if (!p.parameters.empty()) {
    json parameters = json::array();
    for (const ApiParameter& q : p.parameters)
      parameters.push_back(flavor == OpenApiFlavor::kV2 ? paramV2(q) : paramV3(q));
    j["parameters"] = std::move(parameters);
  }
  return j;
}

// The v3 document a path belongs to: /api/v1/pods -> api/v1, /apis/apps/ -> apis/apps.
std::string documentOf(std::string_view path) {
  std::string_view p = path.substr(1);  // drop the leading '/'
  int parts = p.starts_with("apis/") ? 3 : p.starts_with("api/") ? 2 : 1;
  std::string out;
  for (int i = 0; i < parts && !p.empty(); ++i) {
    std::size_t slash = p.find('/');
    std::string_view part = p.substr(0, slash);
    if (part.empty()) break;
    if (!out.empty()) out += '/';
    out += part;
    p = slash == std::string_view::npos ? std::string_view{} : p.substr(slash + 1);
  }
  return out;
}

std::vector<GroupVersion> servedGroupVersions(const std::vector<ServedResource>& served) {
  std::set<GroupVersion> gvs;
  for (const ServedResource& r : served)
    gvs.insert({r.group, r.version});
  return {gvs.begin(), gvs.end()};
}

std::string sha512Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha512(), nullptr);
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i)
    out += fmt::format("{:02X}", digest[i]);
  return out;
}

}  // namespace

OpenApi::OpenApi(const Registry& registry, std::vector<ServedResource> served,
                 std::string serverVersion)
    : registry_(registry), served_(std::move(served)), version_(std::move(serverVersion)) {}

std::string OpenApi::v2() const {
  std::vector<GroupVersion> gvs = servedGroupVersions(served_);
  json paths = json::object();
  for (const ApiPath& p : buildApiPaths(served_))
    paths[p.path] = pathItem(p, OpenApiFlavor::kV2);
  json definitions = json::object();
  for (const TypeDef* t : registry_.types())
    if (t->published) definitions[t->name] = typeSchema(*t, OpenApiFlavor::kV2, gvs);
  json doc = {{"swagger", "2.0"},
              {"info", {{"title", "Kubernetes"}, {"version", version_}}},
              {"paths", std::move(paths)},
              {"definitions", std::move(definitions)},
              {"securityDefinitions", securityScheme()},
              {"security", json::array({{{"BearerToken", json::array()}}})}};
  return doc.dump();
}

std::vector<std::string> OpenApi::v3Names() const {
  std::set<std::string> names;
  for (const ApiPath& p : buildApiPaths(served_))
    names.insert(documentOf(p.path));
  return {names.begin(), names.end()};
}

std::optional<std::string> OpenApi::v3(std::string_view name) const {
  std::vector<GroupVersion> gvs = servedGroupVersions(served_);
  json paths = json::object();
  std::set<std::string> referenced;
  for (const ApiPath& p : buildApiPaths(served_)) {
    if (documentOf(p.path) != name) continue;
    paths[p.path] = pathItem(p, OpenApiFlavor::kV3);
    for (const ApiOperation& o : p.operations) {
      if (!o.bodyType.empty()) referenced.insert(o.bodyType);
      for (const ApiResponse& r : o.responses)
        if (!r.typeName.empty()) referenced.insert(r.typeName);
    }
  }
  if (paths.empty()) return std::nullopt;
  std::set<std::string> names;
  for (const std::string& n : referenced)
    if (const TypeDef* t = registry_.find(n)) addReachableTypes(*t, names);
  json schemas = json::object();
  for (const std::string& n : names)
    schemas[n] = typeSchema(*registry_.find(n), OpenApiFlavor::kV3, gvs);
  json doc = {
      {"openapi", "3.0.0"},
      {"info", {{"title", "Kubernetes"}, {"version", version_}}},
      {"paths", std::move(paths)},
      {"components", {{"schemas", std::move(schemas)}, {"securitySchemes", securityScheme()}}}};
  return doc.dump();
}

std::optional<std::string> OpenApi::v3Hash(std::string_view name) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = hashes_.find(name); it != hashes_.end()) return it->second;
  }
  std::optional<std::string> doc = v3(name);
  if (!doc) return std::nullopt;
  std::string hash = sha512Hex(*doc);
  std::lock_guard lock(mu_);
  hashes_.emplace(std::string(name), hash);
  return hash;
}

std::string OpenApi::v3Index() const {
  json paths = json::object();
  for (const std::string& name : v3Names()) {
    std::optional<std::string> hash = v3Hash(name);
    paths[name] = {{"serverRelativeURL", fmt::format("/openapi/v3/{}?hash={}", name, *hash)}};
  }
  return json{{"paths", std::move(paths)}}.dump();
}

}  // namespace berth::controlplane::schema
