#pragma once
// kube-scheduler's loop as a kubeapi client: pending pods (no spec.nodeName, our
// schedulerName) from the shared pod informer go through an active queue one at a time;
// schedulePod picks a node, the pod is assumed on it (so the next cycle counts it before the
// informer does) and bound through pods/binding. A pod that fits nowhere gets
// PodScheduled=False/Unschedulable with FitError's message and a FailedScheduling event, and
// waits among the unschedulable pods until a node or an assigned pod changes, or until it has
// waited podMaxInUnschedulablePodsDuration (the periodic flush).
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "common/result.h"
#include "controlplane/scheduler/node_info.h"
#include "kubeapi/object_cache.h"
#include "kubeapi/work_queue.h"

namespace berth::kubeapi {
class EventRecorder;
class InformerFactory;
class SharedInformer;
}  // namespace berth::kubeapi

namespace berth::controlplane::scheduler {

struct SchedulerOptions {
  std::string schedulerName = "default-scheduler";
  // The unschedulable pods are looked at this often, and those waiting longer than
  // maxUnschedulableDuration go back to the active queue (upstream: 30 s and 5 min).
  std::chrono::milliseconds flushInterval = std::chrono::seconds(30);
  std::chrono::milliseconds maxUnschedulableDuration = std::chrono::minutes(5);
  std::chrono::milliseconds cacheSyncTimeout = std::chrono::seconds(60);
};

class Scheduler {
 public:
  // The factory is shared with the controllers; it must outlive the scheduler.
  Scheduler(kubeapi::InformerFactory& informers, SchedulerOptions options = {});
  ~Scheduler();  // stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Asks the factory for its informers (starting them if the factory runs), then schedules on
  // a thread of its own once they have synced.
  void start();
  void stop();

 private:
  // What the informers' handlers touch; they hold it weakly, since the shared informers
  // outlive the scheduler.
  struct Queues {
    kubeapi::WorkQueue active;
    std::mutex mu;
    std::map<std::string, std::chrono::steady_clock::time_point> unschedulable;
    std::map<std::string, kubeapi::ObjectPtr> assumed;  // key -> the pod with its node set
    // Bumped by every moveAllToActive(): a pod that failed while something changed is retried
    // at once rather than parked (upstream's moveRequestCycle).
    std::uint64_t moves = 0;

    Queues();
    void moveAllToActive();
    void flushUnschedulable(std::chrono::milliseconds olderThan);
    // Parks a pod that fit nowhere, unless something changed since `movesSeen`.
    void markUnschedulable(const std::string& key, std::uint64_t movesSeen);
  };

  void registerHandlers();
  bool waitForCaches();
  void run();
  void flushLoop();
  void scheduleOne(const std::string& key);
  std::vector<kubeapi::ObjectPtr> assignedPods();
  Snapshot snapshot();
  // VolumeBinding's PreBind for WaitForFirstConsumer claims: the provisioner is told the node
  // (volume.kubernetes.io/selected-node). Deviation: the pod is bound without waiting for the
  // claim to be bound; the kubelet waits for it.
  [[nodiscard]] Status selectNodeForClaims(const nlohmann::json& pod, const std::string& node,
                                           const Snapshot& snap);
  [[nodiscard]] Status bind(const nlohmann::json& pod, const std::string& node);
  void recordFailure(const nlohmann::json& pod, const std::string& reason,
                     const std::string& message);

  kubeapi::InformerFactory& informers_;
  SchedulerOptions options_;
  std::shared_ptr<Queues> queues_;
  std::unique_ptr<kubeapi::EventRecorder> recorder_;
  kubeapi::SharedInformer* pods_ = nullptr;
  kubeapi::SharedInformer* nodes_ = nullptr;
  kubeapi::SharedInformer* claims_ = nullptr;
  kubeapi::SharedInformer* volumes_ = nullptr;
  kubeapi::SharedInformer* classes_ = nullptr;
  kubeapi::SharedInformer* namespaces_ = nullptr;
  kubeapi::SharedInformer* services_ = nullptr;
  kubeapi::SharedInformer* replicaSets_ = nullptr;
  kubeapi::SharedInformer* statefulSets_ = nullptr;
  std::mt19937_64 rng_{std::random_device{}()};

  std::mutex stopMu_;
  std::condition_variable stopCv_;
  bool stopping_ = false;
  std::thread worker_;
  std::thread flusher_;
};

}  // namespace berth::controlplane::scheduler
