#pragma once
// The pod status the kubelet writes to the API (generateAPIPodStatus and getPhase upstream):
// phase, conditions, IPs and container statuses, computed from what the runtime holds, what the
// probes concluded and why the last sync could not start a container. Pure, tested with tables.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"
#include "kubelet/pod_actions.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet {

struct PodStatusInputs {
  const nlohmann::json& pod;  // its spec, and the status the API holds (times carried over)
  const RuntimePodStatus& runtime;
  const ProbeVerdicts& probes;
  std::map<std::string, WaitingReason> waiting;  // by container name
  std::vector<std::string> nodeIps;              // hostIPs, and podIPs of a hostNetwork pod
  std::string runtimeName;                       // "berth": containerID "berth://<id>"
  kubeapi::Time now;
  // The pod is being deleted (or evicted) and its containers will not be restarted: exited
  // containers make it Succeeded or Failed whatever its restartPolicy.
  bool terminal = false;
};

nlohmann::json generatePodStatus(const PodStatusInputs& in);

// The phase from the API container statuses (getPhase upstream).
std::string podPhase(const nlohmann::json& spec, const nlohmann::json& initStatuses,
                     const nlohmann::json& statuses, bool terminal);

}  // namespace berth::kubelet
