#pragma once
// Reads what the runtime holds for the kubelet's pods over CRI and groups it by pod UID (the
// io.kubernetes.pod.uid label), newest first: the list the PLEG compares between relists and
// the full status (IPs, exit codes, times) a pod sync plans from.
#include <map>
#include <string>

#include "common/result.h"
#include "kubelet/cri_client.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet {

// One line per sandbox and container: enough to see that something changed.
struct RuntimePodSummary {
  std::string name;
  std::string ns;
  std::map<std::string, std::string> states;  // sandbox or container id → state name
  bool operator==(const RuntimePodSummary&) const = default;
};

// Every pod the runtime has sandboxes or containers of, by UID.
[[nodiscard]] Result<std::map<std::string, RuntimePodSummary>> listRuntimePods(CriClient& cri);

// The whole status of one pod (PodSandboxStatus and ContainerStatus of each).
[[nodiscard]] Result<RuntimePodStatus> runtimePodStatus(CriClient& cri, const std::string& uid);

// A runtime container status as the planners see it.
ContainerStatus toContainerStatus(const cri::ContainerStatus& status);

}  // namespace berth::kubelet
