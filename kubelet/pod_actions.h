#pragma once
// computePodActions (the upstream kubelet's kuberuntime_manager.go): compares a pod's spec with
// what the runtime holds for it and says what to do — kill the pod, create a sandbox, start or
// restart (init, sidecar, app) containers, kill containers. A pure function of its inputs; the
// pod sync (pod_sync.h) carries the plan out as an ordered list of CRI calls.
//
// Backoff is not decided here: a container to start that is in CrashLoopBackOff is skipped by
// the sync, which reports it as waiting.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubelet/runtime_pod.h"

namespace berth::kubelet {

// What the probe workers concluded, by container ID.
struct ProbeVerdicts {
  std::set<std::string> livenessFailed;
  std::set<std::string> startupFailed;
  // Containers whose startup probe has not succeeded yet (absent: started, or no probe).
  std::set<std::string> notStarted;
  // Containers whose readiness probe passed (a container without one is ready once started).
  std::set<std::string> ready;
};

struct ContainerToKill {
  std::string id;
  std::string name;
  std::string message;  // why, for the event and the log
  // A failed liveness/startup probe's own terminationGracePeriodSeconds, which replaces the
  // pod's (but not a deletion's) for this kill.
  std::optional<std::int64_t> probeGracePeriod;
  bool operator==(const ContainerToKill&) const = default;
};

struct PodActions {
  bool killPod = false;
  bool createSandbox = false;
  std::string sandboxId;  // the sandbox new containers join (when not creating one)
  std::uint32_t attempt = 0;
  std::vector<std::size_t> initContainersToStart;  // indices into spec.initContainers
  std::vector<std::size_t> containersToStart;      // indices into spec.containers
  std::vector<ContainerToKill> containersToKill;
  bool operator==(const PodActions&) const = default;
};

PodActions computePodActions(const nlohmann::json& pod, const RuntimePodStatus& status,
                             const ProbeVerdicts& probes = {});

// The hash the container was created from (kept in kContainerHashAnnotation): a change of the
// spec restarts the container. Resources are left out, as upstream does since in-place resize.
std::uint64_t containerHash(const nlohmann::json& container);

// restartPolicy Always restarts anything; OnFailure only a non-zero exit; Never nothing.
bool shouldRestart(std::string_view restartPolicy, const ContainerStatus& status);

// Sidecar (native sidecar, KEP-753): an init container with restartPolicy Always.
bool isSidecar(const nlohmann::json& initContainer);

}  // namespace berth::kubelet
