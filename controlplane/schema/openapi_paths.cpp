#include "controlplane/schema/openapi_paths.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <fmt/format.h>

namespace berth::controlplane::schema {
namespace {

constexpr std::string_view kStatusType = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
constexpr std::string_view kDeleteOptionsType =
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
constexpr std::string_view kPatchType = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
constexpr std::string_view kWatchEventType = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent";

const std::vector<std::string> kJson = {"application/json"};
const std::vector<std::string> kJsonAndStream = {"application/json",
                                                 "application/json;stream=watch"};
const std::vector<std::string> kAnyBody = {"*/*"};
const std::vector<std::string> kPatchBodies = {
    "application/json-patch+json", "application/merge-patch+json",
    "application/strategic-merge-patch+json", "application/apply-patch+yaml"};

std::string capitalize(std::string_view s) {
  std::string out(s);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

// The group as operation IDs spell it: "" -> Core, rbac.authorization.k8s.io -> RbacAuthorization.
std::string groupWord(std::string_view group) {
  if (group.empty()) return "Core";
  if (group.ends_with(".k8s.io")) group.remove_suffix(7);
  std::string out;
  while (!group.empty()) {
    std::size_t dot = group.find('.');
    out += capitalize(group.substr(0, dot));
    group = dot == std::string_view::npos ? std::string_view{} : group.substr(dot + 1);
  }
  return out;
}

std::string tagOf(std::string_view group, std::string_view version) {
  std::string word = groupWord(group);
  word[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(word[0])));
  return fmt::format("{}_{}", word, version);
}

std::string prefixOf(std::string_view group, std::string_view version) {
  return group.empty() ? fmt::format("/api/{}", version)
                       : fmt::format("/apis/{}/{}", group, version);
}

ApiParameter query(std::string name, std::string type, std::string description) {
  return {std::move(name), "query", std::move(type), false, std::move(description)};
}
ApiParameter pathParam(std::string name, std::string description) {
  return {std::move(name), "path", "string", true, std::move(description)};
}

// Query parameters, by name; the descriptions are ours.
ApiParameter param(std::string_view name) {
  static const std::map<std::string_view, std::pair<std::string_view, std::string_view>> kParams = {
      {"allowWatchBookmarks", {"boolean", "Ask a watch for BOOKMARK events"}},
      {"continue", {"string", "The continue token of the previous page of a paged list"}},
      {"dryRun", {"string", "All: process the request fully but persist nothing"}},
      {"fieldManager", {"string", "Name of the actor making the change, for managedFields"}},
      {"fieldSelector", {"string", "Only objects whose fields match (metadata.name=x,...)"}},
      {"fieldValidation",
       {"string", "Ignore, Warn or Strict: what to do with unknown and duplicate fields"}},
      {"force", {"boolean", "Take over conflicting fields in an apply request"}},
      {"gracePeriodSeconds", {"integer", "Seconds before the object is deleted"}},
      {"ignoreStoreReadErrorWithClusterBreakingPotential",
       {"boolean", "Delete objects that can no longer be read from storage"}},
      {"labelSelector", {"string", "Only objects whose labels match"}},
      {"limit", {"integer", "Most objects to return; the rest come with continue"}},
      {"orphanDependents", {"boolean", "Deprecated: orphan the dependents"}},
      {"pretty", {"string", "Indent the response"}},
      {"propagationPolicy", {"string", "Orphan, Background or Foreground garbage collection"}},
      {"resourceVersion", {"string", "Which version of the data a read or watch starts from"}},
      {"resourceVersionMatch",
       {"string", "How resourceVersion applies to a list: Exact or NotOlderThan"}},
      {"sendInitialEvents", {"boolean", "Start a watch with the current state as ADDED events"}},
      {"timeoutSeconds", {"integer", "End a list or watch after this many seconds"}},
      {"watch", {"boolean", "Watch for changes instead of listing"}},
      {"container", {"string", "The container; optional when the pod has one"}},
      {"follow", {"boolean", "Stream the log as it grows"}},
      {"insecureSkipTLSVerifyBackend", {"boolean", "Do not verify the kubelet's certificate"}},
      {"limitBytes", {"integer", "Most bytes of log to return"}},
      {"previous", {"boolean", "The log of the previous, terminated container"}},
      {"sinceSeconds", {"integer", "Only log lines newer than this many seconds"}},
      {"stream", {"string", "All, Stdout or Stderr"}},
      {"tailLines", {"integer", "Only this many lines from the end of the log"}},
      {"timestamps", {"boolean", "Prefix every line with its RFC 3339 time"}},
      {"command", {"string", "The command to run, one argument per parameter"}},
      {"stdin", {"boolean", "Attach stdin"}},
      {"stdout", {"boolean", "Attach stdout"}},
      {"stderr", {"boolean", "Attach stderr"}},
      {"tty", {"boolean", "Allocate a terminal"}},
      {"ports", {"integer", "Pod ports to forward"}},
      {"path", {"string", "Path to proxy to"}},
  };
  auto it = kParams.find(name);
  return query(std::string(name), std::string(it->second.first), std::string(it->second.second));
}

std::vector<ApiParameter> params(std::initializer_list<std::string_view> names) {
  std::vector<ApiParameter> out;
  for (std::string_view n : names)
    out.push_back(param(n));
  return out;
}

const std::initializer_list<std::string_view> kListParams = {"allowWatchBookmarks",
                                                             "continue",
                                                             "fieldSelector",
                                                             "labelSelector",
                                                             "limit",
                                                             "resourceVersion",
                                                             "resourceVersionMatch",
                                                             "sendInitialEvents",
                                                             "timeoutSeconds",
                                                             "watch"};

// One served resource with the names its operations are built from.
struct Target {
  const ServedResource& r;
  std::string kind;      // the parent's kind: Pod (for pods/status too)
  std::string opPrefix;  // "CoreV1"
  std::string scope;     // "Namespaced" or ""
  std::string tag;
  std::string base;       // "/api/v1/namespaces/{namespace}/pods" or "/api/v1/nodes"
  std::string watchBase;  // the same under /watch/
  std::string kindGroup, kindVersion, kindName;  // what the operations take and return

  std::vector<ApiParameter> scopeParams() const {
    std::vector<ApiParameter> p;
    if (r.namespaced) p.push_back(pathParam("namespace", "Namespace of the object"));
    p.push_back(param("pretty"));
    return p;
  }
  std::vector<ApiParameter> itemParams() const {
    std::vector<ApiParameter> p = {pathParam("name", fmt::format("Name of the {}", kind))};
    for (auto& x : scopeParams())
      p.push_back(std::move(x));
    return p;
  }
  ApiOperation op(std::string method, std::string id, std::string description,
                  std::string action) const {
    ApiOperation o;
    o.method = std::move(method);
    o.operationId = std::move(id);
    o.description = std::move(description);
    o.action = std::move(action);
    o.gvk = ApiGvk{kindGroup, kindVersion, kindName};
    o.tag = tag;
    o.consumes = kAnyBody;
    o.produces = kJson;
    return o;
  }
  static std::vector<ApiResponse> returns(std::initializer_list<int> codes, std::string_view type) {
    std::vector<ApiResponse> out;
    for (int c : codes)
      out.push_back({c, std::string(type)});
    out.push_back({401, ""});
    return out;
  }
};

bool has(const ServedResource& r, std::string_view verb) {
  return std::ranges::find(r.verbs, verb) != r.verbs.end();
}

void addMainResource(const Target& t, std::vector<ApiPath>& out) {
  const ServedResource& r = t.r;
  std::string kind = t.kind;
  std::string listType = r.typeName + "List";
  ApiPath collection{t.base, t.scopeParams(), {}};
  if (has(r, "list")) {
    ApiOperation o = t.op("get", fmt::format("list{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("List or watch {} objects", kind), "list");
    o.parameters = params(kListParams);
    o.produces = kJsonAndStream;
    o.responses = Target::returns({200}, listType);
    collection.operations.push_back(std::move(o));
  }
  if (has(r, "create")) {
    ApiOperation o = t.op("post", fmt::format("create{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("Create a {}", kind), "post");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation"});
    o.bodyType = r.typeName;
    o.responses = Target::returns({200, 201, 202}, r.typeName);
    collection.operations.push_back(std::move(o));
  }
  if (has(r, "deletecollection")) {
    ApiOperation o =
        t.op("delete", fmt::format("delete{}Collection{}{}", t.opPrefix, t.scope, kind),
             fmt::format("Delete a collection of {} objects", kind), "deletecollection");
    o.parameters = params({"continue", "dryRun", "fieldSelector", "gracePeriodSeconds",
                           "ignoreStoreReadErrorWithClusterBreakingPotential", "labelSelector",
                           "limit", "orphanDependents", "propagationPolicy", "resourceVersion",
                           "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"});
    o.bodyType = kDeleteOptionsType;
    o.responses = Target::returns({200}, kStatusType);
    collection.operations.push_back(std::move(o));
  }
  if (!collection.operations.empty()) out.push_back(std::move(collection));

  ApiPath item{t.base + "/{name}", t.itemParams(), {}};
  if (has(r, "get")) {
    ApiOperation o = t.op("get", fmt::format("read{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("Read a {}", kind), "get");
    o.responses = Target::returns({200}, r.typeName);
    item.operations.push_back(std::move(o));
  }
  if (has(r, "update")) {
    ApiOperation o = t.op("put", fmt::format("replace{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("Replace a {}", kind), "put");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation"});
    o.bodyType = r.typeName;
    o.responses = Target::returns({200, 201}, r.typeName);
    item.operations.push_back(std::move(o));
  }
  if (has(r, "patch")) {
    ApiOperation o = t.op("patch", fmt::format("patch{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("Partially update a {}", kind), "patch");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation", "force"});
    o.bodyType = kPatchType;
    o.consumes = kPatchBodies;
    o.responses = Target::returns({200, 201}, r.typeName);
    item.operations.push_back(std::move(o));
  }
  if (has(r, "delete")) {
    ApiOperation o = t.op("delete", fmt::format("delete{}{}{}", t.opPrefix, t.scope, kind),
                          fmt::format("Delete a {}", kind), "delete");
    o.parameters =
        params({"dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
                "orphanDependents", "propagationPolicy"});
    o.bodyType = kDeleteOptionsType;
    o.responses = Target::returns({200, 202}, r.returnsDeletedObject ? r.typeName : kStatusType);
    item.operations.push_back(std::move(o));
  }
  if (!item.operations.empty()) out.push_back(std::move(item));

  auto watchPath = [&](std::string path, std::vector<ApiParameter> pathParams, std::string id,
                       std::string action, std::string description) {
    for (auto& p : params(kListParams))
      pathParams.push_back(std::move(p));
    std::ranges::sort(pathParams, {}, &ApiParameter::name);
    ApiOperation o = t.op("get", std::move(id), std::move(description), std::move(action));
    o.produces = kJsonAndStream;
    o.responses = Target::returns({200}, kWatchEventType);
    out.push_back({std::move(path), std::move(pathParams), {std::move(o)}});
  };
  if (r.namespaced && has(r, "list")) {
    ApiPath all{prefixOf(r.group, r.version) + "/" + r.resource, {param("pretty")}, {}};
    ApiOperation o = t.op("get", fmt::format("list{}{}ForAllNamespaces", t.opPrefix, kind),
                          fmt::format("List or watch {} objects of every namespace", kind), "list");
    o.parameters = params(kListParams);
    o.produces = kJsonAndStream;
    o.responses = Target::returns({200}, listType);
    all.operations.push_back(std::move(o));
    out.push_back(std::move(all));
  }
  if (has(r, "watch")) {
    watchPath(t.watchBase, t.scopeParams(),
              fmt::format("watch{}{}{}List", t.opPrefix, t.scope, kind), "watchlist",
              fmt::format("Deprecated: watch {} objects; use list with watch=true", kind));
    watchPath(t.watchBase + "/{name}", t.itemParams(),
              fmt::format("watch{}{}{}", t.opPrefix, t.scope, kind), "watch",
              fmt::format("Deprecated: watch one {}; use list with a field selector", kind));
    if (r.namespaced)
      watchPath(prefixOf(r.group, r.version) + "/watch/" + r.resource, {param("pretty")},
                fmt::format("watch{}{}ListForAllNamespaces", t.opPrefix, kind), "watchlist",
                fmt::format("Deprecated: watch {} objects of every namespace", kind));
  }
}

void addConnect(const Target& t, std::string_view sub, std::vector<ApiPath>& out) {
  std::string word = capitalize(sub);
  std::vector<std::string_view> methods = {"get", "post"};
  std::vector<ApiParameter> extra;
  if (sub == "exec") extra = params({"command", "container", "stderr", "stdin", "stdout", "tty"});
  if (sub == "attach") extra = params({"container", "stderr", "stdin", "stdout", "tty"});
  if (sub == "portforward") extra = params({"ports"});
  if (sub == "proxy") methods = {"delete", "get", "head", "options", "patch", "post", "put"};
  auto build = [&](std::string path, std::vector<ApiParameter> pathParams, std::string suffix) {
    for (auto& p : extra)
      pathParams.push_back(p);
    std::ranges::sort(pathParams, {}, &ApiParameter::name);
    ApiPath p{std::move(path), std::move(pathParams), {}};
    for (std::string_view m : methods) {
      ApiOperation o =
          t.op(std::string(m),
               fmt::format("connect{}{}{}{}{}{}", t.opPrefix, capitalize(m), t.scope, t.kind, word,
                           suffix),
               fmt::format("Connect {} requests to the {} of a {}", m, sub, t.kind), "connect");
      o.produces = {"*/*"};
      o.responses = {{200, "", true}, {401, ""}};
      p.operations.push_back(std::move(o));
    }
    out.push_back(std::move(p));
  };
  std::vector<ApiParameter> itemParams = t.itemParams();
  std::erase_if(itemParams, [](const ApiParameter& p) { return p.name == "pretty"; });
  if (sub == "proxy") extra = params({"path"});
  build(fmt::format("{}/{{name}}/{}", t.base, sub), itemParams, "");
  if (sub == "proxy") {
    extra.clear();
    itemParams.push_back(pathParam("path", "Path to proxy to"));
    build(fmt::format("{}/{{name}}/{}/{{path}}", t.base, sub), itemParams, "WithPath");
  }
}

void addSubresource(const Target& t, std::vector<ApiPath>& out) {
  const ServedResource& r = t.r;
  const std::string& sub = r.subresource;
  if (sub == "exec" || sub == "attach" || sub == "portforward" || sub == "proxy")
    return addConnect(t, sub, out);
  std::string word = t.kind + capitalize(sub);
  ApiPath path{fmt::format("{}/{{name}}/{}", t.base, sub), t.itemParams(), {}};
  if (sub == "log") {
    ApiOperation o = t.op("get", fmt::format("read{}{}{}", t.opPrefix, t.scope, word),
                          fmt::format("Read the log of a {}", t.kind), "get");
    o.parameters = params({"container", "follow", "insecureSkipTLSVerifyBackend", "limitBytes",
                           "previous", "sinceSeconds", "stream", "tailLines", "timestamps"});
    o.produces = {"text/plain", "application/json"};
    o.responses = {{200, "", true}, {401, ""}};
    path.operations.push_back(std::move(o));
    out.push_back(std::move(path));
    return;
  }
  if (has(r, "get")) {
    ApiOperation o = t.op("get", fmt::format("read{}{}{}", t.opPrefix, t.scope, word),
                          fmt::format("Read the {} of a {}", sub, t.kind), "get");
    o.responses = Target::returns({200}, r.typeName);
    path.operations.push_back(std::move(o));
  }
  if (has(r, "create")) {
    ApiOperation o = t.op("post", fmt::format("create{}{}{}", t.opPrefix, t.scope, word),
                          fmt::format("Create the {} of a {}", sub, t.kind), "post");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation"});
    o.bodyType = r.typeName;
    o.responses = Target::returns({200, 201, 202}, r.typeName);
    path.operations.push_back(std::move(o));
  }
  if (has(r, "update")) {
    ApiOperation o = t.op("put", fmt::format("replace{}{}{}", t.opPrefix, t.scope, word),
                          fmt::format("Replace the {} of a {}", sub, t.kind), "put");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation"});
    o.bodyType = r.typeName;
    o.responses = Target::returns({200, 201}, r.typeName);
    path.operations.push_back(std::move(o));
  }
  if (has(r, "patch")) {
    ApiOperation o = t.op("patch", fmt::format("patch{}{}{}", t.opPrefix, t.scope, word),
                          fmt::format("Partially update the {} of a {}", sub, t.kind), "patch");
    o.parameters = params({"dryRun", "fieldManager", "fieldValidation", "force"});
    o.bodyType = kPatchType;
    o.consumes = kPatchBodies;
    o.responses = Target::returns({200, 201}, r.typeName);
    path.operations.push_back(std::move(o));
  }
  if (!path.operations.empty()) out.push_back(std::move(path));
}

ApiOperation discovery(std::string id, std::string description, std::string type, std::string tag) {
  ApiOperation o;
  o.method = "get";
  o.operationId = std::move(id);
  o.description = std::move(description);
  o.consumes = kJson;
  o.produces = kJson;
  o.responses = {{200, std::move(type)}, {401, ""}};
  o.tag = std::move(tag);
  return o;
}

}  // namespace

std::vector<ApiPath> buildApiPaths(std::span<const ServedResource> served) {
  std::vector<ApiPath> out;
  std::map<std::string, std::vector<std::string>> versionsByGroup;
  for (const ServedResource& r : served) {
    auto& versions = versionsByGroup[r.group];
    if (std::ranges::find(versions, r.version) == versions.end()) versions.push_back(r.version);
  }
  for (const ServedResource& r : served) {
    const ServedResource* parent = &r;
    if (!r.subresource.empty()) {
      auto it = std::ranges::find_if(served, [&](const ServedResource& p) {
        return p.subresource.empty() && p.group == r.group && p.version == r.version &&
               p.resource == r.resource;
      });
      if (it != served.end()) parent = &*it;
    }
    std::string prefix = prefixOf(r.group, r.version);
    Target t{r,
             parent->kind,
             groupWord(r.group) + capitalize(r.version),
             r.namespaced ? "Namespaced" : "",
             tagOf(r.group, r.version),
             r.namespaced ? fmt::format("{}/namespaces/{{namespace}}/{}", prefix, r.resource)
                          : fmt::format("{}/{}", prefix, r.resource),
             r.namespaced ? fmt::format("{}/watch/namespaces/{{namespace}}/{}", prefix, r.resource)
                          : fmt::format("{}/watch/{}", prefix, r.resource),
             r.kindGroup.empty() && r.kindVersion.empty() ? r.group : r.kindGroup,
             r.kindVersion.empty() ? r.version : r.kindVersion,
             r.kind};
    if (r.subresource.empty()) {
      addMainResource(t, out);
    } else {
      addSubresource(t, out);
    }
  }
  for (const auto& [group, versions] : versionsByGroup) {
    for (const std::string& version : versions) {
      std::string word = groupWord(group) + capitalize(version);
      out.push_back(
          {prefixOf(group, version) + "/",
           {},
           {discovery(fmt::format("get{}APIResources", word), "The resources of the group version",
                      "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList",
                      tagOf(group, version))}});
    }
    if (group.empty()) {
      out.push_back({"/api/",
                     {},
                     {discovery("getCoreAPIVersions", "The versions of the core API",
                                "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions", "core")}});
    } else {
      std::string tag = tagOf(group, "");
      tag.pop_back();
      out.push_back(
          {fmt::format("/apis/{}/", group),
           {},
           {discovery(fmt::format("get{}APIGroup", groupWord(group)), "The versions of the group",
                      "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup", tag)}});
    }
  }
  out.push_back({"/apis/",
                 {},
                 {discovery("getAPIVersions", "The served API groups",
                            "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", "apis")}});
  out.push_back({"/version/",
                 {},
                 {discovery("getCodeVersion", "The server's version",
                            "io.k8s.apimachinery.pkg.version.Info", "version")}});
  std::ranges::sort(out, {}, &ApiPath::path);
  return out;
}

}  // namespace berth::controlplane::schema
