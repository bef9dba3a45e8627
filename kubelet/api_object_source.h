#pragma once
// ObjectSource over the API server: GETs of the ConfigMaps, Secrets and RuntimeClasses a pod
// names and a LIST of its namespace's Services, at the moment they are needed (upstream's "Get"
// change-detection strategy); service account tokens by TokenRequest, cached until 80% of their
// lifetime is gone, as the kubelet's token manager keeps them.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "kubeapi/rest_client.h"
#include "kubelet/object_source.h"

namespace berth::kubelet {

class ApiObjectSource final : public ObjectSource {
 public:
  explicit ApiObjectSource(std::shared_ptr<kubeapi::RestClient> api);

  Result<nlohmann::json> configMap(std::string_view ns, std::string_view name) override;
  Result<nlohmann::json> secret(std::string_view ns, std::string_view name) override;
  Result<std::string> serviceAccountToken(const volume::TokenRequest& request) override;
  Result<nlohmann::json> persistentVolumeClaim(std::string_view ns, std::string_view name) override;
  Result<nlohmann::json> persistentVolume(std::string_view name) override;
  Result<nlohmann::json> runtimeClass(const std::string& name) override;
  Result<std::vector<nlohmann::json>> services(const std::string& ns) override;

 private:
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point refreshAt;
  };
  std::shared_ptr<kubeapi::RestClient> api_;
  // The Services LIST for service links: one try with a short deadline, so a pod's start (a
  // static pod's above all) never hangs on an API server that does not answer.
  std::shared_ptr<kubeapi::RestClient> services_;
  std::mutex mu_;
  std::map<std::string, CachedToken> tokens_;  // by the request, serialized
};

}  // namespace berth::kubelet
