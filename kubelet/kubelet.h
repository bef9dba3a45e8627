#pragma once
// The kubelet's pod side (syncLoop, podWorkers, PLEG and the status manager upstream): the pods
// bound to this node come from a shared informer and the static pods from the manifest path
// (pod_sources.h); each pod has a worker of its own that plans
// and applies over CRI (pod_sync.h) and writes the pod's status back; a relist of the runtime
// every second marks the pods whose containers changed, and finds what the runtime holds of pods
// the API no longer has. Deletions are graceful: containers stop within the pod's grace
// period, then the kubelet deletes the API object for good. A static pod runs without the API;
// its mirror pod shows it there and carries its status.
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/server.h"
#include "common/result.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/rest_client.h"
#include "kubeapi/shared_informer.h"
#include "kubelet/api_object_source.h"
#include "kubelet/cri_client.h"
#include "kubelet/file_pod_source.h"
#include "kubelet/image_pull.h"
#include "kubelet/mirror_pods.h"
#include "kubelet/node_agent.h"
#include "kubelet/pod_cgroups.h"
#include "kubelet/pod_events.h"
#include "kubelet/pod_sources.h"
#include "kubelet/pod_sync.h"
#include "kubelet/prober/probe_manager.h"
#include "kubelet/runtime_state.h"
#include "kubelet/server/kubelet_server.h"
#include "kubelet/server_host.h"
#include "kubelet/volume/volume_manager.h"

namespace berth::kubelet {

struct KubeletOptions {
  std::string nodeName;
  std::vector<std::string> nodeIps;
  std::string criEndpoint = "unix:///run/berth/cri.sock";
  std::chrono::milliseconds runtimeRequestTimeout{120'000};
  NodeAgentOptions nodeAgent;
  PodSyncOptions sync;
  PodCgroupOptions cgroups;
  std::chrono::milliseconds relistPeriod{1000};
  // The evented PLEG: pods are marked from the runtime's container events, and the runtime is
  // listed only this often while the stream is up (every relistPeriod when it is not).
  bool eventedPleg = true;
  std::chrono::milliseconds eventedRelistPeriod{60'000};
  std::chrono::milliseconds syncFrequency{60'000};
  std::string healthzBindAddress = "127.0.0.1";
  int healthzPort = 10248;  // 0: no healthz server
  int maxParallelImagePulls = 0;
  bool serializeImagePulls = false;
  std::filesystem::path rootDir = "/var/lib/berth/kubelet";
  // staticPodPath ("": no static pods) and how often it is read besides inotify.
  std::filesystem::path staticPodPath;
  std::chrono::milliseconds fileCheckFrequency{20'000};
  // The :10250 API (nullopt: not served) and what its /configz shows.
  std::optional<server::KubeletServerOptions> server;
  nlohmann::json configz = nlohmann::json::object();
};

class Kubelet {
 public:
  Kubelet(std::shared_ptr<kubeapi::RestClient> api, KubeletOptions options);
  ~Kubelet();

  // Registers the node, starts the informer, the relist and the healthz server.
  [[nodiscard]] Status start();
  // Stops the loops and the workers; containers keep running (a restart adopts them).
  void stop();
  std::uint16_t healthzPort() const { return healthz_ ? healthz_->port() : 0; }
  std::uint16_t serverPort() const { return server_ ? server_->port() : 0; }

 private:
  struct PodWorker;

  void ensureWorker(const std::string& uid, const std::string& key);
  void markDirty(const std::string& uid);
  // The workers of namespace/name (a mirror pod changed: its static pod's worker looks at it).
  void markDirtyByKey(const std::string& key);
  void workerLoop(const std::shared_ptr<PodWorker>& worker);
  // One sync of one pod; returns whether the worker is done (the pod is gone from everywhere).
  bool syncPod(PodWorker& worker);
  // The pod is being deleted: stop it, then delete it from the API once nothing runs.
  void terminatePod(PodWorker& worker, const nlohmann::json& pod, const RuntimePodStatus& runtime);
  // The pod is gone from its source: stop it and remove what is left. Returns whether it is done.
  bool removePod(PodWorker& worker, const RuntimePodStatus& runtime);
  // A static pod waits until the pod its file held before an edit (same name) has stopped.
  bool olderStaticPodRunning(const PodWorker& worker);
  void syncMirrorPod(PodWorker& worker, const nlohmann::json& staticPod);
  void deleteOrphanedMirrorPods();
  // The container's CRI mounts: its volumeMounts, /etc/hosts and the termination-message file.
  Result<std::vector<cri::Mount>> containerMounts(const nlohmann::json& pod,
                                                  const volume::PodVolumes& volumes,
                                                  const nlohmann::json& container,
                                                  const EnvList& env,
                                                  const std::vector<std::string>& podIps);
  // What is left on the node of a pod once its containers are gone: volumes, pod directory,
  // logs, cgroup.
  [[nodiscard]] Status cleanUpPod(const std::string& uid, const std::string& logDir);
  void writeStatus(PodWorker& worker, const nlohmann::json& pod, const RuntimePodStatus& runtime,
                   const ProbeVerdicts& probes, const std::map<std::string, WaitingReason>& waiting,
                   bool terminal);
  PodSyncOptions withHooks(PodSyncOptions options);
  void relistLoop();
  // The evented PLEG: reads the runtime's container events, reconnecting with a backoff; a
  // runtime without them leaves the relist in charge.
  void eventLoop();
  void reapWorkers();
  // Pod directories (volumes, cgroups) of pods neither the API, a worker nor the runtime knows:
  // teardown cut short by a restart (the upstream kubelet's cleanupOrphanedPodDirs).
  void sweepOrphanedPodDirs();
  bool healthy() const;

  std::shared_ptr<kubeapi::RestClient> api_;
  KubeletOptions options_;
  CriClient cri_;
  ApiObjectSource objects_;
  std::unique_ptr<kubeapi::EventRecorder> recorder_;
  PodEvents events_;
  ImagePuller images_;
  PodCgroups cgroups_;
  PodSync sync_;
  volume::VolumeManager volumes_;
  prober::ProbeManager probes_;
  std::unique_ptr<NodeServerHost> serverHost_;
  std::unique_ptr<server::KubeletServer> server_;
  std::unique_ptr<NodeAgent> nodeAgent_;
  std::unique_ptr<kubeapi::SharedInformer> pods_;
  std::unique_ptr<FilePodSource> files_;
  std::unique_ptr<PodSources> sources_;
  std::unique_ptr<MirrorPodClient> mirrors_;
  std::unique_ptr<http::Server> healthz_;
  std::string runtimeName_ = "berth";

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::shared_ptr<PodWorker>> workers_;  // by pod UID
  std::map<std::string, RuntimePodSummary> lastRelist_;
  std::atomic<std::int64_t> lastRelistOk_{0};  // steady clock, ns
  std::thread relistThread_;
  std::thread eventsThread_;
  ContainerEventStream* eventStream_ = nullptr;  // under mu_, for stop() to cancel
  std::atomic<bool> eventsLive_{false};
  std::atomic<bool> relistNow_{false};
  PlegCounters pleg_;  // the event stream just came up: list once to catch up
};

}  // namespace berth::kubelet
