#include "controlplane/storage/keys.h"

namespace berth::controlplane::storage {

std::string resourcePrefix(std::string_view group, std::string_view resource) {
  std::string prefix = "/registry/";
  prefix += resource;
  if (!group.empty()) {
    prefix += '.';
    prefix += group;
  }
  prefix += '/';
  return prefix;
}

std::string namespacePrefix(std::string_view group, std::string_view resource,
                            std::string_view ns) {
  std::string prefix = resourcePrefix(group, resource);
  if (!ns.empty()) {
    prefix += ns;
    prefix += '/';
  }
  return prefix;
}

std::string objectKey(std::string_view group, std::string_view resource, std::string_view ns,
                      std::string_view name) {
  std::string key = namespacePrefix(group, resource, ns);
  key += name;
  return key;
}

}  // namespace berth::controlplane::storage
