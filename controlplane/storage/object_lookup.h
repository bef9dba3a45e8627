#pragma once
// Read access to the current objects, for the parts of the server that decide on a request by
// looking at other objects (RBAC roles and bindings, the Node authorizer's pods, bootstrap token
// Secrets, service accounts, namespace lifecycle). Served from the watch cache: no storage read.
#include <string_view>
#include <vector>

#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::storage {

class ObjectLookup {
 public:
  virtual ~ObjectLookup() = default;
  // null when absent. `group` "" is the core group; `ns` "" for a cluster-scoped resource.
  virtual ObjectPtr get(std::string_view group, std::string_view resource, std::string_view ns,
                        std::string_view name) const = 0;
  // `ns` "": every namespace (or the cluster-scoped resource's objects).
  virtual std::vector<ObjectPtr> list(std::string_view group, std::string_view resource,
                                      std::string_view ns) const = 0;
};

}  // namespace berth::controlplane::storage
