#pragma once
// Where the kubelet reads the objects a pod refers to: the volume layer's ConfigMaps, Secrets
// and service account tokens, plus RuntimeClasses (the sandbox's handler) and Services (service
// links for env). One interface, so env and volume code is tested with objects held in memory.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/volume/object_source.h"

namespace berth::kubelet {

class ObjectSource : public volume::VolumeObjectSource {
 public:
  // kNotFound when the object does not exist.
  [[nodiscard]] virtual Result<nlohmann::json> runtimeClass(const std::string& name) = 0;
  // The Services of a namespace (service links).
  [[nodiscard]] virtual Result<std::vector<nlohmann::json>> services(const std::string& ns) = 0;
};

}  // namespace berth::kubelet
