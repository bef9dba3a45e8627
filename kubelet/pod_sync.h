#pragma once
// Carrying out one pod's plan over CRI (kuberuntime's SyncPod and KillPod): kill what must go,
// create the sandbox, then start init containers, sidecars and app containers — each after its
// image is there and its restart backoff has passed. Nothing here holds a lock across a CRI
// call; one pod worker calls it for one pod at a time.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/container_config.h"
#include "kubelet/container_env.h"
#include "kubelet/cri_client.h"
#include "kubelet/image_pull.h"
#include "kubelet/object_source.h"
#include "kubelet/pod_actions.h"
#include "kubelet/pod_events.h"
#include "kubelet/restart_backoff.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet {

struct PodSyncOptions {
  SandboxOptions sandbox;
  EnvContext env;  // node name, host IPs, allocatable (podIps filled per pod)
  std::int64_t nodeMemoryCapacity = 0;
  bool cpuCfsQuota = true;
  std::int64_t cpuCfsQuotaPeriodUs = 100000;
  // The cgroup parent of a pod ("" : the runtime's default).
  std::function<std::string(const nlohmann::json& pod)> cgroupParent;
  // Lifecycle hooks (the daemon binds the prober's): postStart right after StartContainer (an
  // error kills the container), preStop before StopContainer (returns the grace left for it).
  std::function<Status(const nlohmann::json& pod, const nlohmann::json& container,
                       const std::string& containerId, const std::string& podIp)>
      postStart;
  std::function<std::int64_t(const nlohmann::json& pod, const nlohmann::json& container,
                             const std::string& containerId, std::int64_t grace)>
      preStop;
};

// The mounts of a container (its volumes, /etc/hosts, the termination log), from what the
// volume layer set up for the pod; `env` expands subPathExpr.
using MountsFn = std::function<Result<std::vector<cri::Mount>>(
    const nlohmann::json& container, const EnvList& env, const std::vector<std::string>& podIps)>;

struct SyncResult {
  std::map<std::string, WaitingReason> waiting;  // by container name
  std::optional<Error> error;                    // what failed, for the log and the requeue
  // Something waits on a backoff: sync again after this long.
  std::optional<std::chrono::seconds> retryAfter;
};

class PodSync {
 public:
  // What it does to containers is reported as the pod's events (Created, Started, Killing,
  // BackOff, Failed).
  PodSync(CriClient& cri, ImagePuller& images, ObjectSource& objects, const PodEvents& events,
          PodSyncOptions options);

  SyncResult syncPod(const nlohmann::json& pod, const RuntimePodStatus& status,
                     const ProbeVerdicts& probes, const MountsFn& mounts = {});
  // Stops the pod's containers (app containers in parallel, then sidecars in reverse order) and
  // its sandboxes. `pod` may be null (a pod the API no longer has: the grace comes from the
  // containers' annotations).
  [[nodiscard]] Status killPod(const nlohmann::json* pod, const RuntimePodStatus& status,
                               std::optional<std::int64_t> gracePeriodOverride = std::nullopt);
  // Removes the containers and sandboxes of a pod that is gone (after killPod).
  [[nodiscard]] Status removePod(const RuntimePodStatus& status);

  // The grace a pod's containers get: deletionGracePeriodSeconds, else
  // terminationGracePeriodSeconds, at least 2 s (minimumGracePeriodInSeconds upstream).
  static std::int64_t gracePeriod(const nlohmann::json& pod, std::optional<std::int64_t> override);

 private:
  // Starts spec.<list>[index]; a failure that waits (backoff, image, config) is recorded.
  void startContainer(const nlohmann::json& pod, const nlohmann::json& container,
                      const RuntimePodStatus& status, const std::string& sandboxId,
                      const cri::PodSandboxConfig& sandbox, const std::vector<std::string>& podIps,
                      const MountsFn& mounts, SyncResult& result);
  [[nodiscard]] Result<std::string> runtimeHandler(const nlohmann::json& pod);
  // preStop (when the pod has a spec for the container), then StopContainer with what is left;
  // `why` is the Killing event's message ("Stopping container <name>" when empty).
  [[nodiscard]] Status stopContainer(const nlohmann::json* pod, const std::string& name,
                                     const std::string& id, std::int64_t grace,
                                     std::string why = {});
  std::vector<nlohmann::json> pullSecrets(const nlohmann::json& pod);

  CriClient& cri_;
  ImagePuller& images_;
  ObjectSource& objects_;
  const PodEvents& events_;
  PodSyncOptions options_;
  RestartBackoff backoff_;
};

}  // namespace berth::kubelet
