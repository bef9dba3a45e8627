#include "controlplane/controllers/taint_eviction_controller.h"

#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/node_health.h"
#include "controlplane/controllers/pod_disruption.h"
#include "controlplane/controllers/pod_indexes.h"
#include "kubeapi/event_recorder.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

json noExecuteTaints(const json& node) {
  json out = json::array();
  for (const json& t : jsonArray(jsonField(node, "spec"), "taints"))
    if (jsonString(t, "effect") == "NoExecute") out.push_back(t);
  return out;
}

}  // namespace

std::optional<kubeapi::Time> evictionTime(const json& pod, const json& taints,
                                          kubeapi::Time firstSeen) {
  const json& tolerations = jsonArray(jsonField(pod, "spec"), "tolerations");
  std::optional<kubeapi::Time> when;
  for (const json& taint : taints) {
    kubeapi::Time added = firstSeen;
    if (auto t = kubeapi::parseTime(jsonString(taint, "timeAdded")); t) added = *t;
    bool tolerated = false;
    std::optional<std::chrono::seconds> shortest;  // nullopt: forever
    for (const json& tol : tolerations) {
      if (!tolerates(tol, taint)) continue;
      tolerated = true;
      const json& seconds = jsonField(tol, "tolerationSeconds");
      if (!seconds.is_number_integer()) continue;
      // getMinTolerationTime: a negative time means at once.
      auto s = std::chrono::seconds(std::max<std::int64_t>(seconds.get<std::int64_t>(), 0));
      shortest = shortest ? std::min(*shortest, s) : s;
    }
    kubeapi::Time deadline;
    if (!tolerated)
      deadline = kubeapi::Time::min();
    else if (shortest)
      deadline = added + *shortest;
    else
      continue;  // tolerated for good
    when = when ? std::min(*when, deadline) : deadline;
  }
  return when;
}

TaintEvictionController::TaintEvictionController(ControllerContext& context)
    : context_(context),
      nodes_(&context.informers.informer({"", "v1", "nodes"}, false)),
      pods_(&context.informers.informer({"", "v1", "pods"})),
      recorder_(std::make_unique<kubeapi::EventRecorder>(
          context.client, kubeapi::EventSource{.component = "taint-eviction-controller"})),
      worker_("taint-eviction-controller", [this](const std::string& key) { return sync(key); }) {
  addPodsByNodeIndex(*pods_);
  auto onNode = [this](const kubeapi::ObjectPtr& n) {
    enqueuePodsOn(jsonString((*n)["metadata"], "name"));
  };
  nodes_->addEventHandler(
      {.onAdd = onNode,
       .onUpdate = [=](const kubeapi::ObjectPtr& before, const kubeapi::ObjectPtr& n) {
         if (noExecuteTaints(*before) != noExecuteTaints(*n)) onNode(n);
       }});
  auto onPod = [this](const kubeapi::ObjectPtr& p) {
    if (!jsonString(jsonField(*p, "spec"), "nodeName").empty()) worker_.addObject(p);
  };
  // Deletes too: the sync of a pod gone forgets it.
  pods_->addEventHandler({.onAdd = onPod,
                          .onUpdate = [=](const auto&, const kubeapi::ObjectPtr& p) { onPod(p); },
                          .onDelete = onPod});
}

TaintEvictionController::~TaintEvictionController() {
  stop();
}

void TaintEvictionController::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void TaintEvictionController::stop() {
  worker_.stop();
  recorder_->flush();
}

void TaintEvictionController::enqueuePodsOn(const std::string& nodeName) {
  for (const auto& pod : pods_->cache().byIndex(kPodsByNodeIndex, nodeName))
    worker_.addObject(pod);
}

Status TaintEvictionController::sync(const std::string& podKey) {
  auto pod = pods_->cache().get(podKey);
  json taints = json::array();
  if (pod && !jsonField((*pod)["metadata"], "deletionTimestamp").is_string()) {
    if (auto node = nodes_->cache().get(jsonString((*pod)["spec"], "nodeName")))
      taints = noExecuteTaints(*node);
  }
  kubeapi::Time now = kubeapi::now();
  kubeapi::Time firstSeen;
  {
    std::lock_guard lock(mu_);
    if (taints.empty()) {
      firstSeen_.erase(podKey);
      evicted_.erase(podKey);
      return {};
    }
    // Deleted already; the cache has not seen its deletionTimestamp yet.
    if (auto it = evicted_.find(podKey);
        it != evicted_.end() && it->second == jsonString((*pod)["metadata"], "uid"))
      return {};
    firstSeen = firstSeen_.try_emplace(podKey, now).first->second;
  }
  auto when = evictionTime(*pod, taints, firstSeen);
  if (!when) return {};
  if (*when > now) {
    // Checked again then; a taint removed meanwhile makes that check a no-op.
    worker_.addAfter(podKey, *when - now);
    return {};
  }
  auto [ns, name] = QueueWorker::splitKey(podKey);
  recorder_->event(kubeapi::objectReference(*pod), "Normal", "TaintManagerEviction",
                   fmt::format("Marking for deletion Pod {}", podKey));
  auto pods = context_.client->resource({"", "v1", "pods"}).inNamespace(ns);
  if (auto s = markPodDisrupted(pods, name, "DeletionByTaintManager",
                                "Taint manager: deleting due to NoExecute taint", false);
      !s)
    return std::unexpected(s.error().context("evict pod " + podKey));
  auto deleted = pods.remove(name);
  if (!deleted && !deleted.error().isNotFound())
    return std::unexpected(deleted.error().toError().context("evict pod " + podKey));
  controllerLog()->info("[pod={} node={}] evicted for NoExecute taints {}", podKey,
                        jsonString((*pod)["spec"], "nodeName"), taints.dump());
  std::lock_guard lock(mu_);
  firstSeen_.erase(podKey);
  evicted_[podKey] = jsonString((*pod)["metadata"], "uid");
  return {};
}

}  // namespace berth::controlplane::controllers
