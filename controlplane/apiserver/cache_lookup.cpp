#include "controlplane/apiserver/cache_lookup.h"

#include "controlplane/storage/keys.h"

namespace berth::controlplane::apiserver {

storage::ObjectPtr CacheLookup::get(std::string_view group, std::string_view resource,
                                    std::string_view ns, std::string_view name) const {
  auto cached = cache_.get(storage::objectKey(group, resource, ns, name));
  return cached ? cached->object : nullptr;
}

std::vector<storage::ObjectPtr> CacheLookup::list(std::string_view group, std::string_view resource,
                                                  std::string_view ns) const {
  std::vector<storage::ObjectPtr> out;
  for (auto& item : cache_.list(storage::namespacePrefix(group, resource, ns)).items) {
    out.push_back(std::move(item.object));
  }
  return out;
}

}  // namespace berth::controlplane::apiserver
