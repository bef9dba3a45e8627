#include "kubelet/prober/probe_manager.h"

#include "kubelet/kubelet_log.h"

#include <random>

#include <fmt/format.h>

#include "kubeapi/json_fields.h"
#include "kubelet/pod_actions.h"

namespace berth::kubelet::prober {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using Json = nlohmann::json;

namespace {

constexpr ProbeType kTypes[] = {ProbeType::kStartup, ProbeType::kReadiness, ProbeType::kLiveness};

const char* resultLabel(ProbeResult r) {
  switch (r) {
    case ProbeResult::kSuccess:
      return "successful";
    case ProbeResult::kFailure:
      return "failed";
    case ProbeResult::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::int64_t systemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double uniformRandom() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

}  // namespace

ProbeManager::ProbeManager(Prober prober, ProbeManagerOptions options)
    : prober_(std::move(prober)),
      options_(std::move(options)),
      clock_(options_.clock ? *options_.clock : kubeapi::RealClock::instance()),
      created_(clock_.now()) {
  if (!options_.wallClockNs) options_.wallClockNs = systemNowNs;
  if (!options_.random) options_.random = uniformRandom;
  if (options_.proberThreads == 0) options_.proberThreads = 1;
}

ProbeManager::~ProbeManager() {
  stop();
}

void ProbeManager::start() {
  std::lock_guard lock(mu_);
  if (running_) return;
  running_ = true;
  stopping_ = false;
  scheduler_ = std::thread([this] { schedulerLoop(); });
  for (std::size_t i = 0; i < options_.proberThreads; ++i) {
    probers_.emplace_back([this] { proberLoop(); });
  }
}

void ProbeManager::stop() {
  {
    std::lock_guard lock(mu_);
    if (!running_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  jobsCv_.notify_all();
  scheduler_.join();
  for (auto& t : probers_)
    t.join();
  probers_.clear();
  std::lock_guard lock(mu_);
  for (auto& job : jobs_)
    job.worker->setInFlight(false);
  jobs_.clear();
  running_ = false;
}

void ProbeManager::addPod(const Json& pod) {
  const Json& meta = jsonField(pod, "metadata");
  const std::string uid = jsonString(meta, "uid");
  const bool deleting = !jsonField(meta, "deletionTimestamp").is_null();
  {
    std::lock_guard lock(mu_);
    if (auto it = pods_.find(uid); it != pods_.end()) {
      it->second.deleting = deleting;
      return;
    }
    const Json& spec = jsonField(pod, "spec");
    PodEntry& entry = pods_[uid];
    entry.name = jsonString(meta, "name");
    entry.ns = jsonString(meta, "namespace");
    entry.restartPolicy = jsonString(spec, "restartPolicy", "Always");
    entry.deleting = deleting;
    entry.added = clock_.now();
    entry.eventSubject = {{"metadata", meta}, {"spec", {{"initContainers", Json::array()}}}};
    for (const Json& c : jsonArray(spec, "initContainers")) {
      entry.eventSubject["spec"]["initContainers"].push_back({{"name", jsonString(c, "name")}});
    }

    auto addWorkers = [&](const Json& container, bool restartableInit) {
      for (ProbeType type : kTypes) {
        if (!jsonField(container, probeSpecField(type)).is_object()) continue;
        auto w = std::make_shared<ProbeWorker>(type, container, restartableInit);
        // Right after a (kubelet) start, spread the first runs over a period.
        const auto period = std::chrono::seconds(probeField(w->spec(), "periodSeconds"));
        TimePoint first = entry.added;
        if (entry.added - created_ < period) {
          first += std::chrono::duration_cast<std::chrono::nanoseconds>(period * options_.random());
        }
        w->start(first);
        entry.workers.push_back(std::move(w));
      }
    };
    for (const auto& c : jsonArray(spec, "containers"))
      addWorkers(c, false);
    for (const auto& c : jsonArray(spec, "initContainers")) {
      if (isSidecar(c)) addWorkers(c, true);
    }
  }
  cv_.notify_all();
}

void ProbeManager::removePod(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  while (!it->second.workers.empty()) {
    auto w = it->second.workers.back();  // stopWorkerLocked erases it
    stopWorkerLocked(it->second, uid, *w);
  }
  pods_.erase(it);
}

void ProbeManager::stopLivenessAndStartup(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  auto workers = it->second.workers;
  for (const auto& w : workers) {
    if (w->type() != ProbeType::kReadiness) stopWorkerLocked(it->second, uid, *w);
  }
}

void ProbeManager::updateContainers(const RuntimePodStatus& status) {
  {
    std::lock_guard lock(mu_);
    auto it = pods_.find(status.uid);
    if (it == pods_.end()) return;
    PodEntry& pod = it->second;
    pod.status = status;
    pod.podIp.clear();
    if (!status.sandboxes.empty() && !status.sandboxes.front().ips.empty()) {
      pod.podIp = status.sandboxes.front().ips.front();
    }
    // UpdatePodStatus: a started container that is not ready gets its readiness probe now.
    for (const auto& w : pod.workers) {
      if (w->type() != ProbeType::kReadiness) continue;
      const ContainerStatus* c = status.find(w->containerName());
      if (!startedLocked(pod, c)) continue;
      if (w->containerId() == c->id && w->result() == ProbeResult::kSuccess) continue;
      w->trigger(clock_.now());
    }
  }
  cv_.notify_all();
}

bool ProbeManager::startedLocked(const PodEntry& pod, const ContainerStatus* c) const {
  if (!c || c->state != ContainerState::kRunning) return false;
  for (const auto& w : pod.workers) {
    if (w->type() == ProbeType::kStartup && w->containerName() == c->name) {
      return w->containerId() == c->id && w->result() == ProbeResult::kSuccess;
    }
  }
  return true;  // no startup probe
}

ProbeVerdicts ProbeManager::verdicts(const std::string& uid) const {
  ProbeVerdicts v;
  std::lock_guard lock(mu_);
  auto it = pods_.find(uid);
  if (it == pods_.end()) return v;
  const PodEntry& pod = it->second;
  for (const auto& w : pod.workers) {
    if (w->type() == ProbeType::kStartup && pod.status) {
      const ContainerStatus* c = pod.status->find(w->containerName());
      if (c && c->state == ContainerState::kRunning && !startedLocked(pod, c)) {
        v.notStarted.insert(c->id);
      }
    }
    if (!w->result()) continue;
    const ProbeResult r = *w->result();
    switch (w->type()) {
      case ProbeType::kLiveness:
        if (r == ProbeResult::kFailure) v.livenessFailed.insert(w->containerId());
        break;
      case ProbeType::kStartup:
        if (r == ProbeResult::kFailure) v.startupFailed.insert(w->containerId());
        break;
      case ProbeType::kReadiness:
        if (r == ProbeResult::kSuccess) v.ready.insert(w->containerId());
        break;
    }
  }
  return v;
}

std::vector<ProbeCounter> ProbeManager::counters() const {
  std::vector<ProbeCounter> out;
  std::lock_guard lock(mu_);
  for (const auto& [key, value] : counters_) {
    const auto& [uid, container, type, result] = key;
    auto pod = pods_.find(uid);
    if (pod == pods_.end()) continue;
    out.push_back({type, result, container, pod->second.name, pod->second.ns, uid, value});
  }
  return out;
}

WorkerView ProbeManager::viewFor(const PodEntry& pod, const ProbeWorker& worker) const {
  WorkerView view;
  view.container = pod.status ? pod.status->find(worker.containerName()) : nullptr;
  view.started = startedLocked(pod, view.container);
  view.podDeleting = pod.deleting;
  view.restartPolicy = pod.restartPolicy;
  view.wallNowNs = options_.wallClockNs();
  return view;
}

void ProbeManager::triggerReadinessLocked(PodEntry& pod, const std::string& containerName) {
  for (const auto& w : pod.workers) {
    if (w->type() == ProbeType::kReadiness && w->containerName() == containerName) {
      w->trigger(clock_.now());
    }
  }
}

void ProbeManager::stopWorkerLocked(PodEntry& pod, const std::string& uid,
                                    const ProbeWorker& worker) {
  const std::string type(probeTypeName(worker.type()));
  for (ProbeResult r : {ProbeResult::kSuccess, ProbeResult::kFailure, ProbeResult::kUnknown}) {
    counters_.erase({uid, worker.containerName(), type, resultLabel(r)});
  }
  std::erase_if(pod.workers, [&](const auto& w) {
    if (w.get() != &worker) return false;
    w->setStopped();
    return true;
  });
}

void ProbeManager::reportLocked(const PodEntry& pod, const ProbeWorker& w,
                                const Result<ProbeOutcome>& outcome) const {
  if (options_.events == nullptr) return;
  const std::string type(probeTypeName(w.type()));
  if (!outcome) {
    options_.events->container(pod.eventSubject, w.containerName(), PodEvents::kWarning,
                               "Unhealthy",
                               fmt::format("{} probe errored and resulted in unknown state: {}",
                                           type, outcome.error().message()));
  } else if (outcome->result == HandlerResult::kWarning) {
    options_.events->container(pod.eventSubject, w.containerName(), PodEvents::kWarning,
                               "ProbeWarning",
                               fmt::format("{} probe warning: {}", type, outcome->output));
  } else if (outcome->result != HandlerResult::kSuccess) {
    options_.events->container(pod.eventSubject, w.containerName(), PodEvents::kWarning,
                               "Unhealthy",
                               fmt::format("{} probe failed: {}", type, outcome->output));
  }
}

void ProbeManager::runWorker(const Job& job) {
  ProbeWorker& w = *job.worker;
  bool changed = false;
  bool probe = false;
  Json spec, container;
  std::string containerId, podIp;
  {
    std::lock_guard lock(mu_);
    auto pod = pods_.find(job.uid);
    if (w.stopped() || pod == pods_.end()) {
      w.setInFlight(false);
      return;
    }
    const ProbeWorker::Step step = w.prepare(viewFor(pod->second, w));
    changed = w.takeChanged();
    if (step == ProbeWorker::Step::kStop) {
      stopWorkerLocked(pod->second, job.uid, w);
    } else if (step == ProbeWorker::Step::kWait) {
      w.afterRun(clock_.now());
    } else {
      probe = true;
      spec = w.spec();
      container = w.container();
      containerId = w.containerId();
      podIp = pod->second.podIp;
    }
    if (!probe) w.setInFlight(false);
  }
  if (probe) {
    Result<ProbeOutcome> outcome = prober_.probe(spec, container, containerId, podIp);
    if (!outcome) {
      // As upstream's "Probe errored": the probe could not run (it counts as a failure).
      kubeletLog()->warn("probe errored [uid={} ctr={} probe={}]: {}", job.uid, w.containerName(),
                         probeTypeName(w.type()), outcome.error().message());
    }
    std::lock_guard lock(mu_);
    auto pod = pods_.find(job.uid);
    if (!w.stopped() && pod != pods_.end()) {
      reportLocked(pod->second, w, outcome);
      if (auto r = w.record(outcome)) {
        ++counters_[{job.uid, w.containerName(), std::string(probeTypeName(w.type())),
                     resultLabel(*r)}];
      }
      if (w.takeChanged()) {
        changed = true;
        // A container that just started gets its readiness probe now (UpdatePodStatus would
        // trigger it on the sync this change causes).
        if (w.type() == ProbeType::kStartup && w.result() == ProbeResult::kSuccess) {
          triggerReadinessLocked(pod->second, w.containerName());
        }
      }
    }
    w.afterRun(clock_.now());
    w.setInFlight(false);
  }
  cv_.notify_all();
  if (changed && options_.onChange) options_.onChange(job.uid);
}

std::vector<ProbeManager::Job> ProbeManager::takeDueLocked() {
  std::vector<Job> due;
  const TimePoint now = clock_.now();
  for (auto& [uid, pod] : pods_) {
    for (const auto& w : pod.workers) {
      if (w->inFlight() || w->due() > now) continue;
      w->setInFlight(true);
      due.push_back({uid, w});
    }
  }
  return due;
}

void ProbeManager::runDue() {
  // Until nothing is due: a run may trigger another worker (readiness after startup).
  while (true) {
    std::vector<Job> due;
    {
      std::lock_guard lock(mu_);
      due = takeDueLocked();
    }
    if (due.empty()) return;
    for (const auto& job : due)
      runWorker(job);
  }
}

std::optional<ProbeManager::TimePoint> ProbeManager::nextDue() const {
  std::lock_guard lock(mu_);
  return nextDueLocked();
}

std::optional<ProbeManager::TimePoint> ProbeManager::nextDueLocked() const {
  std::optional<TimePoint> next;
  for (const auto& [uid, pod] : pods_) {
    for (const auto& w : pod.workers) {
      if (!w->inFlight() && (!next || w->due() < *next)) next = w->due();
    }
  }
  return next;
}

void ProbeManager::schedulerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    for (auto& job : takeDueLocked())
      jobs_.push_back(std::move(job));
    if (!jobs_.empty()) jobsCv_.notify_all();
    if (std::optional<TimePoint> next = nextDueLocked()) {
      cv_.wait_for(lock, *next - clock_.now());
    } else {
      cv_.wait(lock);
    }
  }
}

void ProbeManager::proberLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    jobsCv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    runWorker(job);
    lock.lock();
  }
}

}  // namespace berth::kubelet::prober
