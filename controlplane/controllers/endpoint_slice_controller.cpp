#include "controlplane/controllers/endpoint_slice_controller.h"

#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/resources.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {

using kubeapi::ObjectPtr;
using nlohmann::json;

namespace {

constexpr const char* kServiceIndex = "endpointslice-service";

bool managedByUs(const json& slice) {
  return kubeapi::labelOf(slice, kManagedByLabel) == kEndpointSliceControllerName;
}

// The Service key of one of our slices, or "".
std::string serviceKeyOf(const json& slice) {
  auto service = kubeapi::labelOf(slice, kServiceNameLabel);
  if (!service || service->empty() || !managedByUs(slice)) return {};
  return kubeapi::objectKey(kubeapi::namespaceOf(slice), *service);
}

void setTriggerTime(json& slice, const std::optional<kubeapi::Time>& t) {
  if (t)
    kubeapi::setAnnotation(slice, kTriggerTimeAnnotation, kubeapi::formatTime(*t));
  else
    kubeapi::removeAnnotation(slice, kTriggerTimeAnnotation);
}

}  // namespace

EndpointSliceController::EndpointSliceController(ControllerContext& context)
    : context_(context),
      services_(context.informers.informer(kServices)),
      pods_(context.informers.informer(kPods)),
      slices_(context.informers.informer(kEndpointSlices)),
      nodes_(context.informers.informer(kNodes, false)),
      sliceClient_(context.client, kEndpointSlices, true),
      worker_("endpointslice", [this](const std::string& key) { return sync(key); }) {
  slices_.addIndex(kServiceIndex, [](const json& slice) {
    std::string key = serviceKeyOf(slice);
    return key.empty() ? std::vector<std::string>{} : std::vector<std::string>{key};
  });
  services_.addEventHandler({
      .onAdd = [this](const ObjectPtr& s) { worker_.addObject(s); },
      .onUpdate = [this](const ObjectPtr&, const ObjectPtr& s) { worker_.addObject(s); },
      .onDelete = [this](const ObjectPtr& s) { worker_.addObject(s); },
  });
  pods_.addEventHandler({
      .onAdd = [this](const ObjectPtr& p) { onPod(nullptr, p); },
      .onUpdate = [this](const ObjectPtr& o, const ObjectPtr& p) { onPod(o, p); },
      .onDelete = [this](const ObjectPtr& p) { onPod(nullptr, p); },
  });
  auto onSlice = [this](const ObjectPtr& slice) {
    if (std::string key = serviceKeyOf(*slice); !key.empty()) worker_.add(key);
  };
  slices_.addEventHandler({
      .onAdd = onSlice,
      .onUpdate = [onSlice](const ObjectPtr&, const ObjectPtr& s) { onSlice(s); },
      .onDelete = onSlice,
  });
}

void EndpointSliceController::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void EndpointSliceController::onPod(const ObjectPtr& oldPod, const ObjectPtr& newPod) {
  for (const auto& key : servicesOfPodChange(services_.cache(), oldPod, newPod))
    worker_.add(key);
}

Status EndpointSliceController::sync(const std::string& key) {
  ObjectPtr service = services_.cache().get(key);
  if (!service) {
    // The slices go with their owner (garbage collector).
    triggerTimes_.forget(key);
    written_.forget(key);
    return {};
  }
  if (!serviceSelector(*service) ||
      kubeapi::jsonString(kubeapi::jsonField(*service, "spec"), "type") == "ExternalName")
    return {};
  if (!written_.caughtUp(key, slices_.cache())) {
    worker_.addAfter(key, WriteTracker::kRetryAfter);
    return {};
  }
  auto pods = selectedPods(pods_.cache(), *service);
  auto existing = slices_.cache().byIndex(kServiceIndex, key);
  const auto& nodes = nodes_.cache();
  SlicePlan plan = planEndpointSlices({
      .service = *service,
      .pods = pods,
      .existing = existing,
      .nodeZone = [&nodes](const std::string& name) -> std::optional<std::string> {
        auto node = nodes.get(name);
        if (!node) return std::nullopt;
        return std::string(kubeapi::labelOf(*node, "topology.kubernetes.io/zone").value_or(""));
      },
  });
  auto triggerTime = triggerTimes_.compute(*service, pods);
  if (auto s = apply(key, plan, triggerTime); !s) return s;
  if (!plan.skippedPods.empty())
    return fail(Code::kUnavailable, "service {}: pods on nodes not known yet: {}", key,
                fmt::join(plan.skippedPods, ","));
  return {};
}

Status EndpointSliceController::apply(const std::string& key, SlicePlan& plan,
                                      const std::optional<kubeapi::Time>& triggerTime) {
  auto [ns, name] = QueueWorker::splitKey(key);
  auto client = sliceClient_.inNamespace(ns);
  for (auto& slice : plan.create) {
    setTriggerTime(slice, triggerTime);
    auto created = client.create(slice);
    if (!created) return std::unexpected(created.error().toError().context("service " + key));
    written_.remember(key, *created, false);
  }
  for (auto& slice : plan.update) {
    setTriggerTime(slice, triggerTime);
    auto updated = client.update(slice);
    if (!updated)
      return std::unexpected(updated.error().toError().context(
          fmt::format("update endpointslice {}", kubeapi::nameOf(slice))));
    written_.remember(key, *updated, false);
  }
  for (const auto& slice : plan.remove) {
    kubeapi::DeleteOptions options{.preconditionUid = std::string(kubeapi::uidOf(slice))};
    auto removed = client.remove(kubeapi::nameOf(slice), options);
    if (!removed && !removed.error().isNotFound())
      return std::unexpected(removed.error().toError().context(
          fmt::format("delete endpointslice {}", kubeapi::nameOf(slice))));
    written_.remember(key, slice, true);
  }
  if (!plan.empty() && controllerLog()->should_log(spdlog::level::debug))
    controllerLog()->debug("endpointslice [service={}] created {} updated {} deleted {}", key,
                           plan.create.size(), plan.update.size(), plan.remove.size());
  return {};
}

}  // namespace berth::controlplane::controllers
