#pragma once
// The kubelet's probe manager (pkg/kubelet/prober/prober_manager.go): one worker per container
// and probe type of each pod (app containers and sidecars), run every periodSeconds, whose
// results become the ProbeVerdicts computePodActions and the pod status read. A change of a
// result is reported through onChange so the kubelet marks the pod dirty.
//
// Threads: start() runs one scheduler thread that hands due workers to a few prober threads (a
// probe blocks for up to its timeoutSeconds; no lock is held while it runs). Tests leave it
// stopped and call runDue() after moving a FakeClock.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/clock.h"
#include "kubelet/pod_actions.h"
#include "kubelet/pod_events.h"
#include "kubelet/prober/probe_worker.h"
#include "kubelet/prober/prober.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet::prober {

// One series of prober_probe_total (labels as upstream's ProberResults).
struct ProbeCounter {
  std::string probeType;  // "Liveness", "Readiness", "Startup"
  std::string result;     // "successful", "failed", "unknown"
  std::string container;
  std::string pod;
  std::string ns;
  std::string podUid;
  std::uint64_t value = 0;
};

struct ProbeManagerOptions {
  kubeapi::Clock* clock = nullptr;  // null: the real steady clock
  // The wall clock in ns since the epoch, against containers' startedAt (initialDelaySeconds).
  std::function<std::int64_t()> wallClockNs;
  // [0, 1): the share of a period a worker waits before its first run while the manager is
  // younger than that period, so probes after a kubelet restart do not all fire at once.
  std::function<double()> random;
  std::size_t proberThreads = 4;
  // A result changed (called without the manager's lock held).
  std::function<void(const std::string& podUid)> onChange;
  // Failed probes are reported as the pod's Unhealthy events (null: not reported).
  const PodEvents* events = nullptr;
};

class ProbeManager {
 public:
  using TimePoint = kubeapi::Clock::TimePoint;

  ProbeManager(Prober prober, ProbeManagerOptions options = {});
  ~ProbeManager();
  ProbeManager(const ProbeManager&) = delete;
  ProbeManager& operator=(const ProbeManager&) = delete;

  void start();
  void stop();

  // AddPod: workers for every probe of the pod's containers and sidecars. For a pod already
  // known it only takes the new deletionTimestamp (liveness and startup then stand down).
  void addPod(const nlohmann::json& pod);
  // RemovePod: its workers stop and their results go.
  void removePod(const std::string& uid);
  // StopLivenessAndStartup: for a pod being terminated.
  void stopLivenessAndStartup(const std::string& uid);
  // What the runtime holds for the pod: its containers (the newest of each name is probed) and
  // its IP (the first of the newest sandbox). Call it on each sync of the pod, as upstream's
  // UpdatePodStatus: it also runs at once the readiness probe of a started container that is not
  // ready yet.
  void updateContainers(const RuntimePodStatus& status);

  // What computePodActions and the status generator read.
  ProbeVerdicts verdicts(const std::string& uid) const;
  // For /metrics/probes; a worker's series go when it stops, as upstream deletes them.
  std::vector<ProbeCounter> counters() const;

  // Runs, on the calling thread, every worker due by the clock, and those their runs made due
  // (what the prober threads do).
  void runDue();
  // When the next worker is due, if any (not counting runs in flight).
  std::optional<TimePoint> nextDue() const;

 private:
  struct PodEntry {
    std::string name;
    std::string ns;
    std::string restartPolicy;
    bool deleting = false;
    TimePoint added{};
    std::optional<RuntimePodStatus> status;
    std::string podIp;
    nlohmann::json eventSubject;  // metadata and init container names, for PodEvents
    std::vector<std::shared_ptr<ProbeWorker>> workers;
  };
  struct Job {
    std::string uid;
    std::shared_ptr<ProbeWorker> worker;
  };
  // pod UID, container, probe type, result
  using CounterKey = std::tuple<std::string, std::string, std::string, std::string>;

  void runWorker(const Job& job);
  // A run that failed (or warned) as the pod's event, as upstream's prober records it.
  void reportLocked(const PodEntry& pod, const ProbeWorker& w,
                    const Result<ProbeOutcome>& outcome) const;
  WorkerView viewFor(const PodEntry& pod, const ProbeWorker& worker) const;
  bool startedLocked(const PodEntry& pod, const ContainerStatus* c) const;
  void triggerReadinessLocked(PodEntry& pod, const std::string& containerName);
  void stopWorkerLocked(PodEntry& pod, const std::string& uid, const ProbeWorker& worker);
  std::vector<Job> takeDueLocked();
  std::optional<TimePoint> nextDueLocked() const;
  void schedulerLoop();
  void proberLoop();

  Prober prober_;
  ProbeManagerOptions options_;
  kubeapi::Clock& clock_;
  const TimePoint created_;

  mutable std::mutex mu_;
  std::condition_variable cv_;            // the scheduler: something became due sooner, or stop
  std::condition_variable jobsCv_;        // the prober threads: jobs, or stop
  std::map<std::string, PodEntry> pods_;  // by UID
  std::map<CounterKey, std::uint64_t> counters_;
  std::deque<Job> jobs_;
  bool running_ = false;
  bool stopping_ = false;
  std::thread scheduler_;
  std::vector<std::thread> probers_;
};

}  // namespace berth::kubelet::prober
