#pragma once
// Indexes the node controllers share on the pod informer.
#include <string>
#include <vector>

#include "kubeapi/json_fields.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::controllers {

// Pods by spec.nodeName (unbound pods are not indexed).
inline constexpr std::string_view kPodsByNodeIndex = "spec.nodeName";

inline void addPodsByNodeIndex(kubeapi::SharedInformer& pods) {
  // False when another controller added it already: the same index, shared.
  (void)pods.addIndex(std::string(kPodsByNodeIndex), [](const nlohmann::json& pod) {
    std::string node = kubeapi::jsonString(kubeapi::jsonField(pod, "spec"), "nodeName");
    return node.empty() ? std::vector<std::string>{} : std::vector<std::string>{node};
  });
}

}  // namespace berth::controlplane::controllers
