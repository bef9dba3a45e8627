#include "controlplane/scheduler/scheduler.h"

#include "common/log.h"
#include "controlplane/scheduler/schedule_pod.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/meta_time.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "kubeapi/shared_informer.h"

namespace berth::controlplane::scheduler {

namespace {

using kubeapi::ObjectPtr;

// The scheduling queue's backoff (podInitialBackoffSeconds 1, podMaxBackoffSeconds 10).
constexpr auto kInitialBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(10);
// Events carry at most 1024 bytes of message (the scheduler's truncateMessage).
constexpr size_t kMaxEventMessage = 1024;

std::shared_ptr<spdlog::logger> logger() {
  static auto log = namedLogger("scheduler");
  return log;
}

std::string keyOf(const nlohmann::json& pod) {
  return namespaceOf(pod) + "/" + stringField(pod, "metadata", "name");
}

bool assigned(const nlohmann::json& pod) {
  return !stringField(pod, "spec", "nodeName").empty();
}

bool finished(const nlohmann::json& pod) {
  std::string phase = stringField(pod, "status", "phase");
  return phase == "Succeeded" || phase == "Failed";
}

// isPodUpdated: a change beyond status and bookkeeping (our own condition write must not
// bring the pod straight back).
bool specChanged(const nlohmann::json& a, const nlohmann::json& b) {
  auto strip = [](nlohmann::json p) {
    p.erase("status");
    if (p.contains("metadata"))
      for (const char* f : {"resourceVersion", "generation", "managedFields"})
        p["metadata"].erase(f);
    return p;
  };
  return strip(a) != strip(b);
}

// A node change that may let a pod fit (not the kubelet's heartbeats).
bool nodeChanged(const nlohmann::json& a, const nlohmann::json& b) {
  return field(a, "spec") != field(b, "spec") ||
         field(a, "metadata", "labels") != field(b, "metadata", "labels") ||
         field(a, "status", "allocatable") != field(b, "status", "allocatable") ||
         field(a, "status", "images") != field(b, "status", "images");
}

std::string truncateMessage(std::string msg) {
  static constexpr std::string_view kSuffix = " ...(truncated)";
  if (msg.size() > kMaxEventMessage)
    msg = msg.substr(0, kMaxEventMessage - kSuffix.size()) + std::string(kSuffix);
  return msg;
}

// A pod this scheduler is to place: unassigned, ours, not being deleted.
bool pendingFor(const nlohmann::json& pod, const std::string& schedulerName) {
  std::string name = stringField(pod, "spec", "schedulerName");
  if (name.empty()) name = "default-scheduler";
  // A gated pod waits for its gates to go (the SchedulingGates plugin); that update requeues it.
  return name == schedulerName && !assigned(pod) &&
         field(pod, "metadata", "deletionTimestamp").is_null() &&
         field(pod, "spec", "schedulingGates").empty();
}

}  // namespace

Scheduler::Queues::Queues()
    : active(std::make_unique<kubeapi::ItemExponentialRateLimiter>(kInitialBackoff, kMaxBackoff)) {}

void Scheduler::Queues::moveAllToActive() {
  std::map<std::string, std::chrono::steady_clock::time_point> moved;
  {
    std::lock_guard lock(mu);
    ++moves;
    moved.swap(unschedulable);
  }
  for (const auto& [key, since] : moved)
    active.addRateLimited(key);
}

void Scheduler::Queues::flushUnschedulable(std::chrono::milliseconds olderThan) {
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu);
    auto now = std::chrono::steady_clock::now();
    for (auto it = unschedulable.begin(); it != unschedulable.end();) {
      if (now - it->second < olderThan) {
        ++it;
        continue;
      }
      due.push_back(it->first);
      it = unschedulable.erase(it);
    }
  }
  for (const auto& key : due)
    active.add(key);
}

void Scheduler::Queues::markUnschedulable(const std::string& key, std::uint64_t movesSeen) {
  {
    std::lock_guard lock(mu);
    if (moves == movesSeen) {
      unschedulable[key] = std::chrono::steady_clock::now();
      return;
    }
  }
  active.addRateLimited(key);
}

Scheduler::Scheduler(kubeapi::InformerFactory& informers, SchedulerOptions options)
    : informers_(informers),
      options_(std::move(options)),
      queues_(std::make_shared<Queues>()),
      recorder_(std::make_unique<kubeapi::EventRecorder>(
          informers.client(), kubeapi::EventSource{options_.schedulerName, ""})) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  pods_ = &informers_.informer({"", "v1", "pods"});
  nodes_ = &informers_.informer({"", "v1", "nodes"}, false);
  claims_ = &informers_.informer({"", "v1", "persistentvolumeclaims"});
  volumes_ = &informers_.informer({"", "v1", "persistentvolumes"}, false);
  classes_ = &informers_.informer({"storage.k8s.io", "v1", "storageclasses"}, false);
  namespaces_ = &informers_.informer({"", "v1", "namespaces"}, false);
  services_ = &informers_.informer({"", "v1", "services"});
  replicaSets_ = &informers_.informer({"apps", "v1", "replicasets"});
  statefulSets_ = &informers_.informer({"apps", "v1", "statefulsets"});
  registerHandlers();
  worker_ = std::thread([this] { run(); });
  flusher_ = std::thread([this] { flushLoop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(stopMu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stopCv_.notify_all();
  queues_->active.shutDown();
  if (worker_.joinable()) worker_.join();
  if (flusher_.joinable()) flusher_.join();
  if (recorder_) recorder_->flush();
}

void Scheduler::registerHandlers() {
  std::weak_ptr<Queues> weak = queues_;
  auto moveAll = [weak] {
    if (auto q = weak.lock()) q->moveAllToActive();
  };
  auto podChanged = [name = options_.schedulerName, weak](const ObjectPtr& oldPod,
                                                          const ObjectPtr& pod) {
    auto q = weak.lock();
    if (!q) return;
    std::string key = keyOf(*pod);
    if (assigned(*pod)) {
      bool wasAssumed = false;
      {
        std::lock_guard lock(q->mu);
        wasAssumed = q->assumed.erase(key) > 0;
      }
      // What may let a waiting pod fit (or fail an affinity it needs): a pod placed by someone
      // else, a pod that finished and frees its resources, a change of labels or spec. Not
      // the kubelet's status writes, nor our own bindings, which were counted when assumed.
      bool placed = !oldPod || !assigned(*oldPod);
      bool freed = oldPod && !finished(*oldPod) && finished(*pod);
      bool changed = oldPod && !placed && specChanged(*oldPod, *pod);
      if ((placed && !wasAssumed) || freed || changed) q->moveAllToActive();
      return;
    }
    if (!pendingFor(*pod, name)) return;
    if (oldPod && !specChanged(*oldPod, *pod)) return;
    {
      std::lock_guard lock(q->mu);
      q->unschedulable.erase(key);
    }
    q->active.add(key);
  };
  pods_->addEventHandler({
      .onAdd = [podChanged](const ObjectPtr& pod) { podChanged(nullptr, pod); },
      .onUpdate = podChanged,
      .onDelete =
          [weak](const ObjectPtr& pod) {
            auto q = weak.lock();
            if (!q) return;
            {
              std::lock_guard lock(q->mu);
              q->assumed.erase(keyOf(*pod));
              q->unschedulable.erase(keyOf(*pod));
            }
            if (assigned(*pod)) q->moveAllToActive();
          },
  });
  nodes_->addEventHandler({
      .onAdd = [moveAll](const ObjectPtr&) { moveAll(); },
      .onUpdate =
          [moveAll](const ObjectPtr& oldNode, const ObjectPtr& node) {
            if (nodeChanged(*oldNode, *node)) moveAll();
          },
      .onDelete = {},
  });
  for (auto* informer : {claims_, volumes_, classes_, namespaces_})
    informer->addEventHandler({
        .onAdd = [moveAll](const ObjectPtr&) { moveAll(); },
        .onUpdate = [moveAll](const ObjectPtr&, const ObjectPtr&) { moveAll(); },
        .onDelete = {},
    });
}

bool Scheduler::waitForCaches() {
  auto deadline = std::chrono::steady_clock::now() + options_.cacheSyncTimeout;
  std::unique_lock lock(stopMu_);
  for (auto* informer : {pods_, nodes_, claims_, volumes_, classes_, namespaces_, services_,
                         replicaSets_, statefulSets_})
    while (!informer->hasSynced()) {
      // Short waits, so that stop() is not held up by a server that never answers.
      if (stopCv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stopping_; }))
        return false;
      if (std::chrono::steady_clock::now() > deadline) {
        logger()->error("scheduler: caches did not sync; not scheduling");
        return false;
      }
    }
  return true;
}

void Scheduler::run() {
  if (!waitForCaches()) return;
  logger()->info("scheduler started [schedulerName={}]", options_.schedulerName);
  while (auto key = queues_->active.get()) {
    scheduleOne(*key);
    queues_->active.done(*key);
  }
}

void Scheduler::flushLoop() {
  std::unique_lock lock(stopMu_);
  while (!stopCv_.wait_for(lock, options_.flushInterval, [this] { return stopping_; })) {
    lock.unlock();
    queues_->flushUnschedulable(options_.maxUnschedulableDuration);
    lock.lock();
  }
}

std::vector<ObjectPtr> Scheduler::assignedPods() {
  std::map<std::string, ObjectPtr> byKey;
  for (auto& pod : pods_->cache().list())
    if (assigned(*pod) && !finished(*pod)) byKey[keyOf(*pod)] = pod;
  {
    std::lock_guard lock(queues_->mu);
    for (const auto& [key, pod] : queues_->assumed)
      byKey[key] = pod;
  }
  std::vector<ObjectPtr> out;
  for (auto& [key, pod] : byKey)
    out.push_back(std::move(pod));
  return out;
}

Snapshot Scheduler::snapshot() {
  Snapshot s = Snapshot::build(nodes_->cache().list(), assignedPods());
  for (auto& c : claims_->cache().list())
    s.claims[keyOf(*c)] = c;
  for (auto& v : volumes_->cache().list())
    s.volumes[stringField(*v, "metadata", "name")] = v;
  for (auto& c : classes_->cache().list())
    s.storageClasses[stringField(*c, "metadata", "name")] = c;
  for (auto& ns : namespaces_->cache().list())
    s.namespaceLabels[stringField(*ns, "metadata", "name")] = field(*ns, "metadata", "labels");
  s.services = services_->cache().list();
  for (auto& rs : replicaSets_->cache().list())
    s.replicaSets[keyOf(*rs)] = rs;
  for (auto& ss : statefulSets_->cache().list())
    s.statefulSets[keyOf(*ss)] = ss;
  return s;
}

void Scheduler::scheduleOne(const std::string& key) {
  auto pod = pods_->cache().get(key);
  if (!pod || !pendingFor(*pod, options_.schedulerName)) {
    queues_->active.forget(key);
    return;
  }
  std::uint64_t movesSeen = 0;
  {
    std::lock_guard lock(queues_->mu);
    if (queues_->assumed.contains(key)) return;
    movesSeen = queues_->moves;
  }
  Snapshot snap = snapshot();
  auto result = schedulePod(*pod, snap, rng_);
  if (!result.node) {
    logger()->info("unschedulable [pod={}]: {}", key, result.message);
    recordFailure(*pod, result.noNodes ? "SchedulerError" : "Unschedulable", result.message);
    queues_->markUnschedulable(key, movesSeen);
    return;
  }
  auto assumedPod = std::make_shared<nlohmann::json>(*pod);
  (*assumedPod)["spec"]["nodeName"] = *result.node;
  {
    std::lock_guard lock(queues_->mu);
    queues_->assumed[key] = assumedPod;
  }
  auto bound = selectNodeForClaims(*pod, *result.node, snap);
  if (bound) bound = bind(*pod, *result.node);
  if (!bound) {
    {
      std::lock_guard lock(queues_->mu);
      queues_->assumed.erase(key);
    }
    logger()->warn("bind failed [pod={} node={}]: {}", key, *result.node, bound.error().message());
    recordFailure(*pod, "SchedulerError", "binding rejected: " + bound.error().message());
    queues_->active.addRateLimited(key);
    return;
  }
  queues_->active.forget(key);
  logger()->debug("bound [pod={} node={}]", key, *result.node);
  recorder_->event(kubeapi::objectReference(*pod), "Normal", "Scheduled",
                   fmt::format("Successfully assigned {} to {}", key, *result.node));
}

Status Scheduler::selectNodeForClaims(const nlohmann::json& pod, const std::string& node,
                                      const Snapshot& snap) {
  auto claims = informers_.client()
                    ->resource({"", "v1", "persistentvolumeclaims"})
                    .inNamespace(namespaceOf(pod));
  for (const auto& name : delayedClaims(pod, snap)) {
    nlohmann::json patch = {
        {"metadata", {{"annotations", {{"volume.kubernetes.io/selected-node", node}}}}}};
    auto r = claims.patch(name, kubeapi::PatchType::kMerge, patch.dump());
    if (!r) return fail(Code::kInternal, "persistentvolumeclaim {}: {}", name, r.error().message());
  }
  return {};
}

Status Scheduler::bind(const nlohmann::json& pod, const std::string& node) {
  nlohmann::json binding = {{"apiVersion", "v1"},
                            {"kind", "Binding"},
                            {"metadata",
                             {{"name", stringField(pod, "metadata", "name")},
                              {"namespace", namespaceOf(pod)},
                              {"uid", field(pod, "metadata", "uid")}}},
                            {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  auto pods = informers_.client()->resource({"", "v1", "pods"}).inNamespace(namespaceOf(pod));
  auto r = pods.createSubresource(stringField(pod, "metadata", "name"), "binding", binding);
  if (!r) return fail(Code::kInternal, "{}", r.error().message());
  return {};
}

void Scheduler::recordFailure(const nlohmann::json& pod, const std::string& reason,
                              const std::string& message) {
  recorder_->event(kubeapi::objectReference(pod), "Warning", "FailedScheduling",
                   truncateMessage(message));
  // updatePod: write the condition only when it says something new; the transition time moves
  // only when the status does (UpdatePodCondition).
  nlohmann::json transitioned = kubeapi::formatTime(
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()));
  for (const auto& c : field(pod, "status", "conditions")) {
    if (field(c, "type") != "PodScheduled" || field(c, "status") != "False") continue;
    if (field(c, "reason") == reason && field(c, "message") == message) return;
    if (field(c, "lastTransitionTime").is_string()) transitioned = c["lastTransitionTime"];
  }
  nlohmann::json condition = {{"type", "PodScheduled"},   {"status", "False"},
                              {"reason", reason},         {"message", message},
                              {"lastProbeTime", nullptr}, {"lastTransitionTime", transitioned}};
  nlohmann::json patch = {{"status", {{"conditions", {condition}}}}};
  auto pods = informers_.client()->resource({"", "v1", "pods"}).inNamespace(namespaceOf(pod));
  auto r = pods.patch(stringField(pod, "metadata", "name"), kubeapi::PatchType::kStrategicMerge,
                      patch.dump(), {}, "status");
  if (!r && !r.error().isNotFound())
    logger()->warn("pod condition [pod={}]: {}", keyOf(pod), r.error().message());
}

}  // namespace berth::controlplane::scheduler
