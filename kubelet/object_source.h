#pragma once
// Where the kubelet reads the objects a pod refers to (ConfigMaps and Secrets for env and
// volumes, Services for service links): its informer caches or the API, behind one small
// interface so env and volume code is tested with objects held in memory.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet {

class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // kNotFound when the object does not exist.
  [[nodiscard]] virtual Result<nlohmann::json> configMap(const std::string& ns,
                                                         const std::string& name) = 0;
  [[nodiscard]] virtual Result<nlohmann::json> secret(const std::string& ns,
                                                      const std::string& name) = 0;
  [[nodiscard]] virtual Result<nlohmann::json> runtimeClass(const std::string& name) = 0;
  // The Services of a namespace (service links).
  [[nodiscard]] virtual Result<std::vector<nlohmann::json>> services(const std::string& ns) = 0;
};

}  // namespace berth::kubelet
