#pragma once
// storage::ObjectLookup over the watch cache: what admission and authorization read of other
// objects, with no storage read.
#include "controlplane/storage/object_lookup.h"

namespace berth::controlplane::apiserver {

class CacheLookup final : public storage::ObjectLookup {
 public:
  explicit CacheLookup(const storage::WatchCache& cache) : cache_(cache) {}
  storage::ObjectPtr get(std::string_view group, std::string_view resource, std::string_view ns,
                         std::string_view name) const override;
  std::vector<storage::ObjectPtr> list(std::string_view group, std::string_view resource,
                                       std::string_view ns) const override;

 private:
  const storage::WatchCache& cache_;
};

}  // namespace berth::controlplane::apiserver
