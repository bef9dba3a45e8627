#pragma once
// Mirror pods in the API for static pods (pkg/kubelet/pod/mirror_client.go upstream).
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/rest_client.h"

namespace berth::kubelet {

class MirrorPodClient {
 public:
  // `nodeUid` gives the registered Node's UID ("" until it is registered).
  MirrorPodClient(std::shared_ptr<kubeapi::RestClient> api, std::string nodeName,
                  std::function<std::string()> nodeUid)
      : api_(std::move(api)), nodeName_(std::move(nodeName)), nodeUid_(std::move(nodeUid)) {}

  // Brings the static pod's mirror up to date given the API's copy (`mirror`, null when none):
  // a stale or deleting mirror is deleted, a missing one created. Returns whether it created one.
  [[nodiscard]] Result<bool> sync(const nlohmann::json& staticPod, const nlohmann::json* mirror);
  // Deletes a mirror pod at once (grace 0, precondition on its UID, as upstream does).
  [[nodiscard]] Status remove(const nlohmann::json& mirror);

 private:
  std::shared_ptr<kubeapi::RestClient> api_;
  std::string nodeName_;
  std::function<std::string()> nodeUid_;
};

}  // namespace berth::kubelet
