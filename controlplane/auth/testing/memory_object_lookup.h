#pragma once
// For tests: an ObjectLookup over objects held in memory, standing in for the watch cache.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "controlplane/auth/bootstrap_policy.h"
#include "controlplane/storage/object_lookup.h"

namespace berth::testing {

class MemoryObjectLookup final : public controlplane::storage::ObjectLookup {
 public:
  // Stores `object` under its metadata.namespace/name.
  void put(std::string_view group, std::string_view resource, nlohmann::json object) {
    const std::string ns = object["metadata"].value("namespace", "");
    const std::string name = object["metadata"].value("name", "");
    std::lock_guard lock(mutex_);
    objects_[{std::string(group), std::string(resource), ns, name}] =
        std::make_shared<const controlplane::storage::StoredObject>(std::move(object));
  }
  void remove(std::string_view group, std::string_view resource, std::string_view ns,
              std::string_view name) {
    std::lock_guard lock(mutex_);
    objects_.erase({std::string(group), std::string(resource), std::string(ns), std::string(name)});
  }

  controlplane::storage::ObjectPtr get(std::string_view group, std::string_view resource,
                                       std::string_view ns, std::string_view name) const override {
    std::lock_guard lock(mutex_);
    auto it = objects_.find(
        {std::string(group), std::string(resource), std::string(ns), std::string(name)});
    return it == objects_.end() ? nullptr : it->second;
  }
  std::vector<controlplane::storage::ObjectPtr> list(std::string_view group,
                                                     std::string_view resource,
                                                     std::string_view ns) const override {
    std::lock_guard lock(mutex_);
    std::vector<controlplane::storage::ObjectPtr> items;
    for (const auto& [key, object] : objects_) {
      if (std::get<0>(key) == group && std::get<1>(key) == resource &&
          (ns.empty() || std::get<2>(key) == ns)) {
        items.push_back(object);
      }
    }
    return items;
  }

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  mutable std::mutex mutex_;
  std::map<Key, controlplane::storage::ObjectPtr> objects_;
};

// Stores every object of the default RBAC policy, as berth-server's first start does.
inline void putBootstrapPolicy(MemoryObjectLookup& lookup) {
  const auto& policy = controlplane::auth::bootstrapPolicy();
  for (const auto& role : policy.clusterRoles)
    lookup.put("rbac.authorization.k8s.io", "clusterroles", role);
  for (const auto& binding : policy.clusterRoleBindings) {
    lookup.put("rbac.authorization.k8s.io", "clusterrolebindings", binding);
  }
  for (const auto& role : policy.roles)
    lookup.put("rbac.authorization.k8s.io", "roles", role);
  for (const auto& binding : policy.roleBindings) {
    lookup.put("rbac.authorization.k8s.io", "rolebindings", binding);
  }
}

}  // namespace berth::testing
