#pragma once
// A pod's QoS class (pkg/apis/core/v1/helper/qos.GetPodQOS), which the server writes into
// status.qosClass and the kubelet uses for cgroups and OOM scores.
#include <string>

#include <nlohmann/json.hpp>

namespace berth::kubeapi {

// "Guaranteed" when every container limits cpu and memory and requests what it limits (a
// missing request defaults to the limit); "BestEffort" when nothing requests or limits cpu or
// memory; "Burstable" otherwise. Takes the pod spec.
std::string podQosClass(const nlohmann::json& spec);

}  // namespace berth::kubeapi
