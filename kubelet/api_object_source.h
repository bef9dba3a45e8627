#pragma once
// ObjectSource over the API server: GETs of the ConfigMaps, Secrets and RuntimeClasses a pod
// names and a LIST of its namespace's Services, at the moment a container starts (upstream's
// "Get" change-detection strategy).
#include <memory>

#include "kubeapi/rest_client.h"
#include "kubelet/object_source.h"

namespace berth::kubelet {

class ApiObjectSource final : public ObjectSource {
 public:
  explicit ApiObjectSource(std::shared_ptr<kubeapi::RestClient> api) : api_(std::move(api)) {}

  Result<nlohmann::json> configMap(const std::string& ns, const std::string& name) override;
  Result<nlohmann::json> secret(const std::string& ns, const std::string& name) override;
  Result<nlohmann::json> runtimeClass(const std::string& name) override;
  Result<std::vector<nlohmann::json>> services(const std::string& ns) override;

 private:
  std::shared_ptr<kubeapi::RestClient> api_;
};

}  // namespace berth::kubelet
