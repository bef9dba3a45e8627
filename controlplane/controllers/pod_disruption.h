#pragma once
// The DisruptionTarget condition the controllers that delete pods write first (PodDisruption
// Conditions, GA in 1.31), so a Job's podFailurePolicy can tell a disruption from a failure:
// the taint manager's "DeletionByTaintManager", podgc's "DeletionByPodGC" (which also moves an
// orphan to phase Failed, since no kubelet will).
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubeapi/resource_client.h"

namespace berth::controlplane::controllers {

// The pod with condition DisruptionTarget=True (reason, message) set, and phase Failed when
// `markFailed` and the pod is not already Succeeded or Failed.
nlohmann::json withDisruptionTarget(nlohmann::json pod, std::string_view reason,
                                    std::string_view message, bool markFailed);

// Writes that to the stored pod (pods/status, re-read on a conflict); a pod already gone is fine.
[[nodiscard]] Status markPodDisrupted(const kubeapi::ResourceClient& pods, std::string_view name,
                                      std::string_view reason, std::string_view message,
                                      bool markFailed);

}  // namespace berth::controlplane::controllers
