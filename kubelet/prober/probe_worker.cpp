#include "kubelet/prober/probe_worker.h"

#include "kubeapi/json_fields.h"
#include "kubelet/prober/prober.h"

namespace berth::kubelet::prober {

using kubeapi::jsonField;
using kubeapi::jsonString;

const char* probeSpecField(ProbeType type) {
  switch (type) {
    case ProbeType::kLiveness:
      return "livenessProbe";
    case ProbeType::kReadiness:
      return "readinessProbe";
    case ProbeType::kStartup:
      return "startupProbe";
  }
  return "";
}

ProbeWorker::ProbeWorker(ProbeType type, nlohmann::json container, bool restartableInit)
    : type_(type),
      container_(std::move(container)),
      spec_(jsonField(container_, probeSpecField(type))),
      name_(jsonString(container_, "name")),
      restartableInit_(restartableInit) {}

ProbeResult ProbeWorker::initialValue() const {
  // Readiness starts failed (not ready until a probe passes); liveness succeeded (alive until a
  // probe fails); startup unknown (not started, not failed).
  switch (type_) {
    case ProbeType::kReadiness:
      return ProbeResult::kFailure;
    case ProbeType::kLiveness:
      return ProbeResult::kSuccess;
    case ProbeType::kStartup:
      return ProbeResult::kUnknown;
  }
  return ProbeResult::kUnknown;
}

void ProbeWorker::set(ProbeResult r) {
  if (result_ != r) changed_ = true;
  result_ = r;
}

ProbeWorker::Step ProbeWorker::prepare(const WorkerView& view) {
  const ContainerStatus* c = view.container;
  if (!c || c->id.empty()) return Step::kWait;  // not created yet, or gone: wait for news

  if (c->id != containerId_) {
    // A new container: the old one's result goes, the new one starts from the initial value.
    containerId_ = c->id;
    result_.reset();
    set(initialValue());
    onHold_ = false;
  }
  if (onHold_) return Step::kWait;  // until the failed container is replaced

  if (c->state != ContainerState::kRunning) {
    set(ProbeResult::kFailure);
    // Stop only when the container will not be restarted.
    const bool willRestart =
        c->state != ContainerState::kExited || view.restartPolicy != "Never" || restartableInit_;
    return willRestart ? Step::kWait : Step::kStop;
  }

  if (view.podDeleting && (type_ == ProbeType::kLiveness || type_ == ProbeType::kStartup)) {
    // Graceful shutdown: a last success so nothing restarts the container while it stops.
    set(ProbeResult::kSuccess);
    return Step::kStop;
  }

  // int32(time.Since(startedAt).Seconds()) < initialDelaySeconds
  const std::int64_t runningFor = (view.wallNowNs - c->startedAt) / 1'000'000'000;
  if (runningFor < probeField(spec_, "initialDelaySeconds")) return Step::kWait;

  // The startup probe stops once the container has started; the others wait for that.
  const bool isStartup = type_ == ProbeType::kStartup;
  if (view.started ? isStartup : !isStartup) return Step::kWait;
  return Step::kProbe;
}

std::optional<ProbeResult> ProbeWorker::record(const Result<ProbeOutcome>& outcome) {
  if (!outcome) {
    lastOutput_ = outcome.error().message();
    return std::nullopt;  // a prober error: the run does not count
  }
  lastOutput_ = outcome->output;
  // A warning is a success; an unknown handler result counts as a failure (prober.probe).
  const ProbeResult r =
      outcome->result == HandlerResult::kSuccess || outcome->result == HandlerResult::kWarning
          ? ProbeResult::kSuccess
          : ProbeResult::kFailure;
  if (r == lastResult_) {
    ++resultRun_;
  } else {
    lastResult_ = r;
    resultRun_ = 1;
  }
  if ((r == ProbeResult::kFailure && resultRun_ < probeField(spec_, "failureThreshold")) ||
      (r == ProbeResult::kSuccess && resultRun_ < probeField(spec_, "successThreshold"))) {
    return r;  // below the threshold: the result stands
  }
  set(r);
  if ((type_ == ProbeType::kLiveness && r == ProbeResult::kFailure) ||
      type_ == ProbeType::kStartup) {
    // The container will be restarted (or has started): no more runs until a new container
    // (kubernetes#21751, #117153).
    onHold_ = true;
    resultRun_ = 0;
  }
  return r;
}

std::chrono::seconds ProbeWorker::period() const {
  return std::chrono::seconds(std::max<std::int64_t>(1, probeField(spec_, "periodSeconds")));
}

void ProbeWorker::start(TimePoint at) {
  due_ = tick_ = at;
}

void ProbeWorker::afterRun(TimePoint now) {
  if (std::exchange(pendingTrigger_, false)) {
    due_ = tick_ = now;
    return;
  }
  const auto p = period();
  tick_ += p;
  if (tick_ < now) tick_ += ((now - tick_) / p) * p;  // the last tick that passed is kept
  due_ = tick_;
}

void ProbeWorker::trigger(TimePoint now) {
  if (inFlight_) {
    pendingTrigger_ = true;
    return;
  }
  due_ = tick_ = now;
}

}  // namespace berth::kubelet::prober
