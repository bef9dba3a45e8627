#pragma once
// For tests: ConfigMaps, Secrets, claims and PersistentVolumes from maps, tokens from a counter;
// records TokenRequests.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kubelet/volume/object_source.h"

namespace berth::kubelet::volume {

class MapObjectSource : public VolumeObjectSource {
 public:
  void putConfigMap(const std::string& ns, const std::string& name, nlohmann::json obj) {
    configMaps_[{ns, name}] = std::move(obj);
  }
  void putSecret(const std::string& ns, const std::string& name, nlohmann::json obj) {
    secrets_[{ns, name}] = std::move(obj);
  }
  void putClaim(const std::string& ns, const std::string& name, nlohmann::json obj) {
    claims_[{ns, name}] = std::move(obj);
  }
  void putVolume(const std::string& name, nlohmann::json obj) {
    volumes_[{"", name}] = std::move(obj);
  }
  Result<nlohmann::json> configMap(std::string_view ns, std::string_view name) override {
    return lookup(configMaps_, "configmaps", ns, name);
  }
  Result<nlohmann::json> secret(std::string_view ns, std::string_view name) override {
    return lookup(secrets_, "secrets", ns, name);
  }
  Result<nlohmann::json> persistentVolumeClaim(std::string_view ns,
                                               std::string_view name) override {
    return lookup(claims_, "persistentvolumeclaims", ns, name);
  }
  Result<nlohmann::json> persistentVolume(std::string_view name) override {
    return lookup(volumes_, "persistentvolumes", "", name);
  }
  Result<std::string> serviceAccountToken(const TokenRequest& request) override {
    tokenRequests.push_back(request);
    return "token-" + std::to_string(tokenRequests.size());
  }

  std::vector<TokenRequest> tokenRequests;

 private:
  using Key = std::pair<std::string, std::string>;
  static Result<nlohmann::json> lookup(const std::map<Key, nlohmann::json>& m,
                                       std::string_view resource, std::string_view ns,
                                       std::string_view name) {
    auto it = m.find({std::string(ns), std::string(name)});
    if (it == m.end()) return fail(Code::kNotFound, "{} \"{}\" not found", resource, name);
    return it->second;
  }
  std::map<Key, nlohmann::json> configMaps_;
  std::map<Key, nlohmann::json> secrets_;
  std::map<Key, nlohmann::json> claims_;
  std::map<Key, nlohmann::json> volumes_;
};

}  // namespace berth::kubelet::volume
