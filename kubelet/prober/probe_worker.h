#pragma once
// One probe of one container (pkg/kubelet/prober/worker.go): the state machine of doProbe —
// follow the newest container (a new ID resets the result to the type's initial value), hold
// after a liveness failure or a decided startup probe until the container is replaced, wait
// initialDelaySeconds, let only the startup probe run before the container has started, and
// change the result only after successThreshold or failureThreshold runs in a row — and the
// ticker that runs it every periodSeconds. It holds no lock and does no I/O: the ProbeManager
// calls prepare(), runs the probe, then record(), with time from the injected clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/prober/probe_types.h"
#include "kubelet/runtime_pod.h"

namespace berth::kubelet::prober {

// The container spec field of a probe type: "livenessProbe", "readinessProbe", "startupProbe".
const char* probeSpecField(ProbeType type);

// What the results manager holds for a container (results.Result upstream).
enum class ProbeResult { kUnknown, kSuccess, kFailure };

// What a worker sees of its container when it runs (the status manager's pod status upstream).
struct WorkerView {
  const ContainerStatus* container = nullptr;  // the newest instance of the name; null: none
  bool started = false;                        // its startup probe passed, or it has none
  bool podDeleting = false;                    // the pod has a deletionTimestamp
  std::string restartPolicy = "Always";        // the pod's
  std::int64_t wallNowNs = 0;                  // against the container's startedAt
};

class ProbeWorker {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Step { kWait, kProbe, kStop };

  // `container` is the spec (with the probe); `restartableInit`: a sidecar init container.
  ProbeWorker(ProbeType type, nlohmann::json container, bool restartableInit);

  ProbeType type() const { return type_; }
  const std::string& containerName() const { return name_; }
  const nlohmann::json& container() const { return container_; }
  const nlohmann::json& spec() const { return spec_; }

  // doProbe up to the probe: whether to probe now, wait for the next tick, or stop for good.
  Step prepare(const WorkerView& view);
  // doProbe after the probe; an error drops the run. Returns the run's result (for counters),
  // nullopt when dropped.
  std::optional<ProbeResult> record(const Result<ProbeOutcome>& outcome);

  // The container the result is about, and the result ("" / nullopt: none yet).
  const std::string& containerId() const { return containerId_; }
  std::optional<ProbeResult> result() const { return result_; }
  // Whether the result was set to a different value since the last call (results.Manager only
  // publishes changes).
  bool takeChanged() { return std::exchange(changed_, false); }
  // The output of the last run, for the event and the log.
  const std::string& lastOutput() const { return lastOutput_; }

  // The ticker. start(): the first run at `at`; afterRun(): the next tick (Go's ticker drops
  // the ticks a slow probe missed but one); trigger(): run now and restart the ticker from now
  // (the manual trigger channel), once more after the run in flight if there is one.
  void start(TimePoint at);
  void afterRun(TimePoint now);
  void trigger(TimePoint now);
  TimePoint due() const { return due_; }
  bool inFlight() const { return inFlight_; }
  void setInFlight(bool v) { inFlight_ = v; }
  bool stopped() const { return stopped_; }
  void setStopped() { stopped_ = true; }

 private:
  void set(ProbeResult r);
  ProbeResult initialValue() const;
  std::chrono::seconds period() const;

  ProbeType type_;
  nlohmann::json container_;
  nlohmann::json spec_;
  std::string name_;
  bool restartableInit_;

  std::string containerId_;
  std::optional<ProbeResult> result_;
  bool changed_ = false;
  bool onHold_ = false;
  ProbeResult lastResult_ = ProbeResult::kSuccess;  // Go's zero value of results.Result
  int resultRun_ = 0;
  std::string lastOutput_;

  TimePoint due_{};
  TimePoint tick_{};
  bool inFlight_ = false;
  bool pendingTrigger_ = false;
  bool stopped_ = false;
};

}  // namespace berth::kubelet::prober
