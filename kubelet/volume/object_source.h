#pragma once
// Where volume plugins get the API objects they project: the kubelet plugs in its informer
// caches and its API client (TokenRequest); tests plug in a map.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet::volume {

// authentication.k8s.io/v1 TokenRequest for a projected serviceAccountToken, bound to the pod.
struct TokenRequest {
  std::string namespace_;
  std::string serviceAccountName;
  std::vector<std::string> audiences;  // empty: the API server's default audience
  std::int64_t expirationSeconds = 3600;
  std::string podName;
  std::string podUid;
  bool operator==(const TokenRequest&) const = default;
};

class VolumeObjectSource {
 public:
  virtual ~VolumeObjectSource() = default;
  // The object as JSON (data and binaryData base64 as on the wire for secrets and binaryData).
  // An Error with Code::kNotFound when it does not exist, which `optional` sources tolerate.
  [[nodiscard]] virtual Result<nlohmann::json> configMap(std::string_view ns,
                                                         std::string_view name) = 0;
  [[nodiscard]] virtual Result<nlohmann::json> secret(std::string_view ns,
                                                      std::string_view name) = 0;
  // POST serviceaccounts/<name>/token; the token (status.token).
  [[nodiscard]] virtual Result<std::string> serviceAccountToken(const TokenRequest& request) = 0;
  // A persistentVolumeClaim volume's claim and the PersistentVolume bound to it.
  [[nodiscard]] virtual Result<nlohmann::json> persistentVolumeClaim(std::string_view ns,
                                                                     std::string_view name) = 0;
  [[nodiscard]] virtual Result<nlohmann::json> persistentVolume(std::string_view name) = 0;
};

}  // namespace berth::kubelet::volume
