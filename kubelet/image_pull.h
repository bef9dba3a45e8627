#pragma once
// Making sure a container's image is there before it is created (kuberuntime's
// EnsureImageExists): imagePullPolicy (Always, IfNotPresent, Never), credentials from the pod's
// imagePullSecrets (.dockerconfigjson / .dockercfg), and ImagePullBackOff after a failed pull.
// Pods pull in parallel: each pod worker pulls for itself (serializeImagePulls: false), bounded by
// maxParallelImagePulls.
#include <condition_variable>
#include <expected>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubelet/cri_client.h"
#include "kubelet/pod_events.h"
#include "kubelet/restart_backoff.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet {

class ImagePuller {
 public:
  // maxParallel 0: no limit. Pulls are reported as the pod's events (Pulling, Pulled, Failed,
  // BackOff).
  ImagePuller(CriClient& cri, const PodEvents& events, int maxParallel, bool serialize);

  // The image reference the container is created from, or why it can't be (ErrImagePull,
  // ImagePullBackOff, ErrImageNeverPull, InvalidImageName).
  std::expected<std::string, WaitingReason> ensureImage(
      const nlohmann::json& pod, const nlohmann::json& container,
      const cri::PodSandboxConfig& sandbox, const std::vector<nlohmann::json>& pullSecrets);

 private:
  class Slot;
  CriClient& cri_;
  const PodEvents& events_;
  int maxParallel_;
  std::mutex mu_;
  std::condition_variable cv_;
  int inFlight_ = 0;
  RestartBackoff backoff_;
};

// The registry host an image reference pulls from ("docker.io" for "busybox").
std::string registryHost(const std::string& image);

// The credentials for `image` in a docker config secret (its decoded object), or nullopt.
std::optional<cri::AuthConfig> authFromSecret(const nlohmann::json& secret,
                                              const std::string& image);

}  // namespace berth::kubelet
