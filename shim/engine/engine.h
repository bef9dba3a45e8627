#pragma once
// berth-cri's pod and container engine: the state behind the RuntimeService's lifecycle RPCs.
// Pods have no pause container (shim/sandbox): their namespaces are pinned, their network is
// attached with CNI, and each container runs under its own berth-monitor. Every step is recorded
// on disk first (records.h) so that open() after a crash or `kill -9` rebuilds the state, and
// rolls back what a half-finished RunPodSandbox or CreateContainer left.
//
//   <root>/pods/<id>/pod.json              <state>/pods/<id>/   hostname, hosts, resolv.conf, shm
//   <root>/containers/<id>/container.json  <state>/containers/<id>/   bundle (config.json),
//                                              attach + ctl sockets, exit.json, monitor.log
//
// Locking: mu_ guards the maps and every record's fields (held briefly); each pod and container
// has an `op` mutex that serialises its lifecycle operations (pod before container before mu_).
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "runtime/v1/api.pb.h"
#include "shim/apparmor_default.h"
#include "shim/container_spec.h"
#include "shim/cri_config.h"
#include "shim/engine/oci_runtime.h"
#include "shim/engine/records.h"
#include "shim/monitor/exit_record.h"
#include "shim/stats/stats_collector.h"
#include "shim/streaming/streaming_server.h"

namespace berth::cri {

struct EngineOptions {
  std::filesystem::path monitorPath;  // berth-monitor
  std::filesystem::path podInitPath;  // berth-pod-init
  HostFacts host;
  // Loads host.appArmorDefaultProfile when a container first needs it.
  std::filesystem::path appArmorParser = kAppArmorParser;
};

class Engine final : public shim::StreamingRuntime {
 public:
  // Loads the records under config.root and recovers (see above). `config` must outlive it.
  [[nodiscard]] static Result<std::unique_ptr<Engine>> open(const CriConfig& config,
                                                            EngineOptions options);
  ~Engine() override;

  // The streaming server for Exec/Attach/PortForward URLs; started lazily.
  [[nodiscard]] Result<shim::StreamingServer*> streaming();

  // ---- pods ----
  [[nodiscard]] Result<std::string> runPodSandbox(const v1::PodSandboxConfig& config,
                                                  const std::string& runtimeHandler);
  [[nodiscard]] Status stopPodSandbox(const std::string& id);
  [[nodiscard]] Status removePodSandbox(const std::string& id);
  [[nodiscard]] Status podSandboxStatus(const std::string& id, bool verbose,
                                        v1::PodSandboxStatusResponse* out);
  void listPodSandbox(const v1::PodSandboxFilter* filter, v1::ListPodSandboxResponse* out);
  // The pod's resources as the kubelet resized them. Without a pause container there is no
  // sandbox process to limit (the kubelet owns the pod cgroup): they are checked and recorded.
  [[nodiscard]] Status updatePodSandboxResources(const std::string& id,
                                                 const v1::LinuxContainerResources& resources);

  // ---- containers ----
  [[nodiscard]] Result<std::string> createContainer(const std::string& podId,
                                                    const v1::ContainerConfig& config,
                                                    const v1::PodSandboxConfig& sandboxConfig);
  [[nodiscard]] Status startContainer(const std::string& id);
  [[nodiscard]] Status stopContainer(const std::string& id, std::int64_t timeoutSeconds);
  [[nodiscard]] Status removeContainer(const std::string& id);
  [[nodiscard]] Status containerStatus(const std::string& id, bool verbose,
                                       v1::ContainerStatusResponse* out);
  void listContainers(const v1::ContainerFilter* filter, v1::ListContainersResponse* out);
  [[nodiscard]] Status updateContainerResources(const std::string& id,
                                                const v1::LinuxContainerResources& resources);
  [[nodiscard]] Status reopenContainerLog(const std::string& id);
  [[nodiscard]] Status execSync(const v1::ExecSyncRequest& request, v1::ExecSyncResponse* out);
  [[nodiscard]] Result<std::string> execUrl(const v1::ExecRequest& request);
  [[nodiscard]] Result<std::string> attachUrl(const v1::AttachRequest& request);
  [[nodiscard]] Result<std::string> portForwardUrl(const v1::PortForwardRequest& request);

  // ---- stats and metrics (stats_ops.cpp) ----
  [[nodiscard]] Status containerStats(const std::string& id, v1::ContainerStats* out);
  void listContainerStats(const v1::ContainerStatsFilter* filter,
                          v1::ListContainerStatsResponse* out);
  [[nodiscard]] Status podSandboxStats(const std::string& id, v1::PodSandboxStats* out);
  void listPodSandboxStats(const v1::PodSandboxStatsFilter* filter,
                           v1::ListPodSandboxStatsResponse* out);
  void listMetricDescriptors(v1::ListMetricDescriptorsResponse* out) const;
  void listPodSandboxMetrics(v1::ListPodSandboxMetricsResponse* out);

  // ---- events (GetContainerEvents) ----
  // Blocks until an event arrives or `until` returns true (checked every `poll`).
  class EventQueue;
  std::shared_ptr<EventQueue> subscribe();
  void unsubscribe(const std::shared_ptr<EventQueue>& queue);

  // StreamingRuntime
  shim::CommandOutcome exec(const shim::ExecRequest& request,
                            shim::CommandStreams& streams) override;
  shim::CommandOutcome attach(const shim::AttachRequest& request,
                              shim::CommandStreams& streams) override;
  Status portForward(const std::string& podSandboxId, std::int32_t port, UniqueFd stream) override;

 private:
  struct Pod {
    std::mutex op;
    PodRecord rec;
  };
  struct Container {
    std::mutex op;
    ContainerRecord rec;
    std::optional<shim::ExitRecord> exit;
    bool oomKilled = false;     // the OOM killer killed one of its tasks (reason OOMKilled)
    bool exitReported = false;  // CONTAINER_STOPPED_EVENT sent
  };

  Engine(const CriConfig& config, EngineOptions options);
  [[nodiscard]] Status recover();

  // Paths.
  std::filesystem::path podRecordPath(const std::string& id) const;
  std::filesystem::path podStateDir(const std::string& id) const;
  std::filesystem::path containerRecordPath(const std::string& id) const;
  std::filesystem::path containerStateDir(const std::string& id) const;
  std::filesystem::path exitFile(const std::string& id) const;

  // Names are unique across pods and containers while their record exists (kAlreadyExists).
  [[nodiscard]] Status reserveName(const std::string& name, const std::string& id,
                                   std::string_view what);
  void releaseName(const std::string& name);
  // The end of a failed RunPodSandbox/CreateContainer: the record goes once `undone` succeeded;
  // otherwise it stays, and the next start rolls back again.
  void dropRecordIfUndone(std::string_view what, const std::string& id, const Status& undone,
                          const std::filesystem::path& recordDir) const;

  [[nodiscard]] Status savePod(const PodRecord& rec) const;
  [[nodiscard]] Status saveContainer(const ContainerRecord& rec) const;

  // Lookups by full id or unique prefix (kNotFound naming `what`).
  [[nodiscard]] Result<std::shared_ptr<Pod>> findPod(const std::string& id);
  [[nodiscard]] Result<std::shared_ptr<Container>> findContainer(const std::string& id);
  [[nodiscard]] Result<OciRuntime> runtimeFor(const std::string& handler) const;

  // Pod steps (pod_ops.cpp).
  [[nodiscard]] Status setUpPod(PodRecord& rec);
  [[nodiscard]] Status tearDownPodNetwork(PodRecord& rec);
  [[nodiscard]] Status tearDownPod(PodRecord& rec);
  void fillPodStatus(const PodRecord& rec, v1::PodSandboxStatus* out) const;

  // Container steps (container_ops.cpp).
  [[nodiscard]] Status setUpContainer(ContainerRecord& rec, const PodRecord& pod,
                                      const v1::PodSandboxConfig& sandboxConfig);
  [[nodiscard]] Status tearDownContainer(const ContainerRecord& rec);
  // Refreshes c.exit from the exit file (mu_ held).
  void refreshExit(Container& c) const;
  v1::ContainerState stateOf(Container& c) const;
  [[nodiscard]] Status stopLocked(Container& c, std::int64_t timeoutSeconds);
  [[nodiscard]] Result<shim::ExitRecord> waitExit(Container& c,
                                                  std::chrono::milliseconds timeout) const;
  void fillContainerStatus(Container& c, v1::ContainerStatus* out) const;
  std::vector<std::shared_ptr<Container>> containersOf(const std::string& podId);
  stats::ContainerStatsInput statsInput(const ContainerRecord& rec) const;
  void fillContainerAttributes(const ContainerRecord& rec, v1::ContainerAttributes* out) const;
  [[nodiscard]] Result<stats::PodSandboxStats> collectPodStats(const PodRecord& pod);
  void fillPodStats(const PodRecord& pod, const stats::PodSandboxStats& s,
                    v1::PodSandboxStats* out);
  void publish(const Container& c, v1::ContainerEventType type);
  // Reads the exit once it is there; true the first time (the caller sends the STOPPED event).
  bool noteExit(Container& c);
  // The exit watcher: one thread on an inotify fd with a watch per container state dir, so that
  // an exit is an event when it happens, not when someone next asks.
  [[nodiscard]] Status startExitWatcher();
  void watchExit(const std::string& id);
  void exitWatchLoop();

  const CriConfig& config_;
  EngineOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Pod>> pods_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
  std::map<std::string, std::string> names_;  // reserved name → id (pods and containers)
  std::unique_ptr<stats::StatsCollector> stats_;
  AppArmorDefaultProfile appArmorDefault_;
  std::mutex streamingMu_;
  std::unique_ptr<shim::StreamingServer> streaming_;
  UniqueFd inotify_;
  UniqueFd stopWatcher_;  // eventfd
  std::mutex watchMu_;
  std::map<int, std::string> watches_;  // inotify watch → container id
  std::thread watcher_;
  std::mutex eventsMu_;
  std::vector<std::shared_ptr<EventQueue>> subscribers_;
};

class Engine::EventQueue {
 public:
  void push(v1::ContainerEventResponse event);
  // nullopt after `timeout` with nothing queued.
  std::optional<v1::ContainerEventResponse> pop(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<v1::ContainerEventResponse> events_;
};

}  // namespace berth::cri
