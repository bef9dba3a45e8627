#include "controlplane/apiserver/registry.h"

namespace berth::controlplane::apiserver {
namespace {

// What a subresource takes and which verbs it has (as discovery lists them upstream).
schema::ServedResource subresourceOf(const schema::ServedResource& parent,
                                     const std::string& name) {
  schema::ServedResource s = parent;
  s.subresource = name;
  s.shortNames.clear();
  s.categories.clear();
  s.singularName.clear();
  auto takes = [&](std::string kind, std::string group, std::string version,
                   std::vector<std::string> verbs) {
    s.kind = std::move(kind);
    s.kindGroup = std::move(group);
    s.kindVersion = std::move(version);
    s.verbs = std::move(verbs);
  };
  const std::vector<std::string> getPatchUpdate = {"get", "patch", "update"};
  if (name == "status" || name == "ephemeralcontainers" || name == "approval" || name == "resize") {
    takes(parent.kind, "", "", getPatchUpdate);
  } else if (name == "scale") {
    takes("Scale", "autoscaling", "v1", getPatchUpdate);
  } else if (name == "binding") {
    takes("Binding", "", "v1", {"create"});
  } else if (name == "eviction") {
    takes("Eviction", "policy", "v1", {"create"});
  } else if (name == "token") {
    takes("TokenRequest", "authentication.k8s.io", "v1", {"create"});
  } else if (name == "log") {
    takes("Pod", "", "", {"get"});
  } else if (name == "exec") {
    takes("PodExecOptions", "", "", {"create", "get"});
  } else if (name == "attach") {
    takes("PodAttachOptions", "", "", {"create", "get"});
  } else if (name == "portforward") {
    takes("PodPortForwardOptions", "", "", {"create", "get"});
  } else if (name == "proxy") {
    takes(parent.kind + "ProxyOptions", "", "", {"create", "delete", "get", "patch", "update"});
  } else if (name == "finalize") {
    takes(parent.kind, "", "", {"update"});
  }
  return s;
}

}  // namespace

const schema::ServedResource* ResourceEntry::subresource(std::string_view name) const {
  for (const auto& s : subresources) {
    if (s.subresource == name) return &s;
  }
  return nullptr;
}

Registry::Registry(storage::Backend& backend, storage::WatchCache& cache, const StoreEnv& env) {
  for (const ResourceSpec& spec : servedResourceSpecs()) {
    auto entry = std::make_unique<ResourceEntry>();
    entry->served = spec.served;
    for (const std::string& sub : spec.subresources) {
      entry->subresources.push_back(subresourceOf(spec.served, sub));
    }
    if (spec.stored) {
      const Strategy& strategy = spec.strategy ? *spec.strategy : defaultStrategy();
      entry->store = std::make_unique<ResourceStore>(spec.served, strategy, backend, cache, env);
    }
    index_[{spec.served.group, spec.served.version, spec.served.resource}] = entry.get();
    entries_.push_back(std::move(entry));
  }
}

const ResourceEntry* Registry::find(std::string_view group, std::string_view version,
                                    std::string_view resource) const {
  auto it =
      index_.find(std::make_tuple(std::string(group), std::string(version), std::string(resource)));
  return it == index_.end() ? nullptr : it->second;
}

ResourceStore* Registry::store(std::string_view group, std::string_view resource) const {
  for (const auto& entry : entries_) {
    if (entry->served.group == group && entry->served.resource == resource) {
      return entry->store.get();
    }
  }
  return nullptr;
}

std::vector<schema::ServedResource> Registry::allServed() const {
  std::vector<schema::ServedResource> all;
  for (const auto& entry : entries_) {
    all.push_back(entry->served);
    for (const auto& sub : entry->subresources)
      all.push_back(sub);
  }
  return all;
}

}  // namespace berth::controlplane::apiserver
