#include "controlplane/apiserver/discovery.h"

#include <set>
#include <vector>

namespace berth::controlplane::apiserver {
namespace {

using nlohmann::json;
constexpr std::string_view kAggregatedType =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

json legacyResource(const schema::ServedResource& s) {
  json r = {{"name", s.subresource.empty() ? s.resource : s.resource + "/" + s.subresource},
            {"singularName", s.singularName},
            {"namespaced", s.namespaced},
            {"kind", s.kind},
            {"verbs", s.verbs}};
  if (!s.kindGroup.empty() || !s.kindVersion.empty()) {
    r["group"] = s.kindGroup;
    r["version"] = s.kindVersion;
  }
  if (!s.shortNames.empty()) r["shortNames"] = s.shortNames;
  if (!s.categories.empty()) r["categories"] = s.categories;
  return r;
}

json responseKind(const schema::ServedResource& s) {
  return {{"group", s.kindGroup}, {"version", s.kindVersion}, {"kind", s.kind}};
}

json aggregatedResource(const ResourceEntry& e) {
  const schema::ServedResource& s = e.served;
  json r = {{"resource", s.resource},
            {"responseKind", responseKind(s)},
            {"scope", s.namespaced ? "Namespaced" : "Cluster"},
            {"singularResource", s.singularName},
            {"verbs", s.verbs}};
  if (!s.shortNames.empty()) r["shortNames"] = s.shortNames;
  if (!s.categories.empty()) r["categories"] = s.categories;
  if (!e.subresources.empty()) {
    json subs = json::array();
    for (const auto& sub : e.subresources) {
      subs.push_back({{"subresource", sub.subresource},
                      {"responseKind", responseKind(sub)},
                      {"verbs", sub.verbs}});
    }
    r["subresources"] = std::move(subs);
  }
  return r;
}

json groupVersionRef(const std::string& group, const std::string& version) {
  return {{"groupVersion", group + "/" + version}, {"version", version}};
}

}  // namespace

Discovery::Discovery(const Registry& registry, std::string gitVersion) {
  // Group -> version -> entries, in the registry's order of first appearance.
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> versions;
  std::map<std::pair<std::string, std::string>, std::vector<const ResourceEntry*>> entries;
  for (const auto& e : registry.entries()) {
    const auto& s = e->served;
    if (!versions.contains(s.group)) groups.push_back(s.group);
    auto& vs = versions[s.group];
    if (std::find(vs.begin(), vs.end(), s.version) == vs.end()) vs.push_back(s.version);
    entries[{s.group, s.version}].push_back(e.get());
  }

  json groupList = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array()}};
  json aggregatedGroups = {{"kind", "APIGroupDiscoveryList"},
                           {"apiVersion", "apidiscovery.k8s.io/v2"},
                           {"metadata", json::object()},
                           {"items", json::array()}};
  for (const std::string& group : groups) {
    json aggregated = {{"metadata", {{"creationTimestamp", nullptr}}}, {"versions", json::array()}};
    if (!group.empty()) aggregated["metadata"]["name"] = group;
    json versionRefs = json::array();
    for (const std::string& version : versions[group]) {
      json list = {{"kind", "APIResourceList"},
                   {"groupVersion", group.empty() ? version : group + "/" + version},
                   {"resources", json::array()}};
      if (!group.empty()) list["apiVersion"] = "v1";
      json resources = json::array();
      for (const ResourceEntry* e : entries[{group, version}]) {
        list["resources"].push_back(legacyResource(e->served));
        for (const auto& sub : e->subresources)
          list["resources"].push_back(legacyResource(sub));
        resources.push_back(aggregatedResource(*e));
      }
      aggregated["versions"].push_back(
          {{"version", version}, {"resources", std::move(resources)}, {"freshness", "Current"}});
      if (group.empty()) {
        legacy_["/api/" + version] = list.dump();
      } else {
        legacy_["/apis/" + group + "/" + version] = list.dump();
        versionRefs.push_back(groupVersionRef(group, version));
      }
    }
    if (group.empty()) {
      json core = {{"kind", "APIGroupDiscoveryList"},
                   {"apiVersion", "apidiscovery.k8s.io/v2"},
                   {"metadata", json::object()},
                   {"items", json::array({aggregated})}};
      aggregatedCore_ = core.dump();
      legacy_["/api"] = json{
          {"kind", "APIVersions"},
          {"versions", versions[group]},
          {"serverAddressByClientCIDRs",
           json::array()}}.dump();
      continue;
    }
    json apiGroup = {
        {"name", group}, {"versions", versionRefs}, {"preferredVersion", versionRefs.front()}};
    groupList["groups"].push_back(apiGroup);
    json single = apiGroup;
    single["kind"] = "APIGroup";
    single["apiVersion"] = "v1";
    legacy_["/apis/" + group] = single.dump();
    aggregatedGroups["items"].push_back(std::move(aggregated));
  }
  legacy_["/apis"] = groupList.dump();
  aggregatedGroups_ = aggregatedGroups.dump();

  // kubectl reads major/minor for its skew warning.
  std::string minor;
  std::size_t dot = gitVersion.find('.');
  if (dot != std::string::npos) {
    std::size_t end = gitVersion.find_first_not_of("0123456789", dot + 1);
    minor = gitVersion.substr(dot + 1, end == std::string::npos ? end : end - dot - 1);
  }
  version_ = {{"major", "1"},    {"minor", minor},          {"gitVersion", gitVersion},
              {"gitCommit", ""}, {"gitTreeState", "clean"}, {"buildDate", "1970-01-01T00:00:00Z"},
              {"goVersion", ""}, {"compiler", "berth"},     {"platform", "linux/amd64"}};
}

std::optional<http::Response> Discovery::serve(const http::Request& request) const {
  std::string path = request.path;
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  auto it = legacy_.find(path);
  if (it == legacy_.end()) return std::nullopt;
  http::Response r;
  r.headers.set("Vary", "Accept");
  r.headers.set("Cache-Control", "no-cache, private");
  // Aggregated discovery when the client's Accept names it (kubectl 1.26+ does, first).
  auto accept = request.headers.get("Accept");
  bool aggregated = accept && accept->find("as=APIGroupDiscoveryList") != std::string_view::npos &&
                    accept->find("v=v2;") != std::string_view::npos;
  if (aggregated && (path == "/api" || path == "/apis")) {
    r.headers.set("Content-Type", std::string(kAggregatedType));
    r.body = path == "/api" ? aggregatedCore_ : aggregatedGroups_;
    return r;
  }
  r.headers.set("Content-Type", "application/json");
  r.body = it->second;
  return r;
}

}  // namespace berth::controlplane::apiserver
