#pragma once
// Every resource berth-server serves, each once: its ServedResource (discovery, OpenAPI, Table,
// routing), its subresources, its Strategy and its ResourceStore. A new resource is an entry in
// served_resources.cpp plus, where it has rules of its own, a strategy.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "controlplane/apiserver/resource_store.h"
#include "controlplane/schema/served.h"

namespace berth::controlplane::apiserver {

struct ResourceEntry {
  schema::ServedResource served;
  std::vector<schema::ServedResource> subresources;
  std::unique_ptr<ResourceStore> store;  // null for resources without storage (reviews, bindings)
  // The deleted object, not a Success Status, is what a DELETE returns.
  const schema::ServedResource* subresource(std::string_view name) const;
};

// The facts of one served resource, as served_resources.cpp lists them.
struct ResourceSpec {
  schema::ServedResource served;
  std::vector<std::string> subresources;  // "status", "scale", "binding", ...
  const Strategy* strategy = nullptr;     // null: the default strategy
  bool stored = true;
};
const std::vector<ResourceSpec>& servedResourceSpecs();

class Registry {
 public:
  Registry(storage::Backend& backend, storage::WatchCache& cache, const StoreEnv& env);

  const ResourceEntry* find(std::string_view group, std::string_view version,
                            std::string_view resource) const;
  // The store of a resource by group and plural name (any version).
  ResourceStore* store(std::string_view group, std::string_view resource) const;
  const std::vector<std::unique_ptr<ResourceEntry>>& entries() const { return entries_; }
  // Every ServedResource, resources and subresources, in discovery order.
  std::vector<schema::ServedResource> allServed() const;

 private:
  std::vector<std::unique_ptr<ResourceEntry>> entries_;
  std::map<std::tuple<std::string, std::string, std::string>, ResourceEntry*, std::less<>> index_;
};

}  // namespace berth::controlplane::apiserver
