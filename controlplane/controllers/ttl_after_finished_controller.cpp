#include "controlplane/controllers/ttl_after_finished_controller.h"

#include "controlplane/controllers/controller_log.h"
#include "controlplane/controllers/resources.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"

namespace berth::controlplane::controllers {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {}  // namespace

Result<std::optional<kubeapi::Time>> jobExpiry(const json& job) {
  const json& ttl = jsonField(jsonField(job, "spec"), "ttlSecondsAfterFinished");
  if (!ttl.is_number_integer() ||
      jsonField(jsonField(job, "metadata"), "deletionTimestamp").is_string())
    return std::nullopt;
  for (const json& c : jsonArray(jsonField(job, "status"), "conditions")) {
    std::string type = jsonString(c, "type");
    if ((type != "Complete" && type != "Failed") || jsonString(c, "status") != "True") continue;
    auto finished = kubeapi::parseTime(jsonString(c, "lastTransitionTime"));
    if (!finished)
      return fail(Code::kInvalidArgument, "unable to find the time when the Job {} finished",
                  QueueWorker::keyOf(job));
    return *finished + std::chrono::seconds(ttl.get<std::int64_t>());
  }
  return std::nullopt;
}

TtlAfterFinishedController::TtlAfterFinishedController(ControllerContext& context)
    : context_(context),
      jobs_(&context.informers.informer(kJobs)),
      worker_("ttl-after-finished", [this](const std::string& key) { return sync(key); }) {
  auto enqueue = [this](const kubeapi::ObjectPtr& job) {
    if (auto expiry = jobExpiry(*job); !expiry || *expiry) worker_.addObject(job);
  };
  jobs_->addEventHandler(
      {.onAdd = enqueue,
       .onUpdate = [=](const auto&, const kubeapi::ObjectPtr& j) { enqueue(j); }});
}

TtlAfterFinishedController::~TtlAfterFinishedController() {
  stop();
}

void TtlAfterFinishedController::start() {
  worker_.start(context_.options.concurrentSyncs);
}

void TtlAfterFinishedController::stop() {
  worker_.stop();
}

Status TtlAfterFinishedController::sync(const std::string& key) {
  auto cached = jobs_->cache().get(key);
  if (!cached) return {};
  auto expiry = jobExpiry(*cached);
  if (!expiry) return std::unexpected(expiry.error());
  if (!*expiry) return {};
  kubeapi::Time now = kubeapi::now();
  if (**expiry > now) {
    worker_.addAfter(key, **expiry - now);
    return {};
  }
  // The cache may be stale (the TTL changed, the Job restarted): check the stored Job first.
  auto [ns, name] = QueueWorker::splitKey(key);
  auto jobs = context_.client->resource(kJobs).inNamespace(ns);
  auto fresh = jobs.get(name);
  if (!fresh)
    return fresh.error().isNotFound() ? Status{} : std::unexpected(fresh.error().toError());
  auto freshExpiry = jobExpiry(*fresh);
  if (!freshExpiry) return std::unexpected(freshExpiry.error());
  if (!*freshExpiry) return {};
  if (**freshExpiry > now) {
    worker_.addAfter(key, **freshExpiry - now);
    return {};
  }
  auto deleted = jobs.remove(name, {.propagationPolicy = "Foreground",
                                    .preconditionUid = jsonString((*fresh)["metadata"], "uid")});
  if (!deleted && !deleted.error().isNotFound())
    return std::unexpected(deleted.error().toError().context("delete job " + key));
  controllerLog()->info("[job={}] deleted: TTL after finished expired", key);
  return {};
}

}  // namespace berth::controlplane::controllers
