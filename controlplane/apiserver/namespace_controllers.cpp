#include "controlplane/apiserver/namespace_controllers.h"
#include "controlplane/apiserver/json_fields.h"

#include <spdlog/spdlog.h>

#include "controlplane/server_log.h"
#include "controlplane/storage/keys.h"

namespace berth::controlplane::apiserver {
namespace {

constexpr std::chrono::seconds kTerminatingRetry{1};
constexpr const char* kRootCaConfigMap = "kube-root-ca.crt";

}  // namespace

NamespaceControllers::NamespaceControllers(Registry& registry, storage::WatchCache& cache,
                                           std::string caPem, std::chrono::milliseconds resync)
    : registry_(registry),
      cache_(cache),
      caPem_(std::move(caPem)),
      loop_(
          cache, storage::resourcePrefix("", "namespaces"),
          [this](const std::string& ns) { return sync(ns); }, resync, kTerminatingRetry) {}

bool NamespaceControllers::sync(const std::string& ns) {
  auto object = cache_.get(storage::objectKey("", "namespaces", "", ns));
  if (!object) return true;
  const Json& json = object->object->json();
  bool terminating = !jsonString(jsonField(json, "metadata"), "deletionTimestamp").empty() ||
                     jsonString(jsonField(json, "status"), "phase") == "Terminating";
  if (!terminating) {
    ensureDefaults(ns);
    return true;
  }
  if (!deleteContent(ns)) return false;
  finalize(ns);
  return true;
}

void NamespaceControllers::ensureDefaults(const std::string& ns) {
  ResourceStore* accounts = registry_.store("", "serviceaccounts");
  if (accounts && !cache_.get(accounts->keyOf(ns, "default"))) {
    Json sa = {
        {"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
    auto created = accounts->create(ns, std::move(sa), {});
    if (!created && created.error().reason != kubeapi::reason::kAlreadyExists) {
      serverLogger()->warn("[ns={}] default service account: {}", ns, created.error().message);
    }
  }
  ResourceStore* configMaps = registry_.store("", "configmaps");
  if (!configMaps || caPem_.empty()) return;
  auto current = cache_.get(configMaps->keyOf(ns, kRootCaConfigMap));
  if (current && jsonString(jsonField(current->object->json(), "data"), "ca.crt") == caPem_) return;
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata",
              {{"name", kRootCaConfigMap},
               {"annotations",
                {{"kubernetes.io/description",
                  "Contains a CA bundle that can be used to verify the kube-apiserver when using "
                  "internal endpoints such as the internal service IP or kubernetes.default.svc. "
                  "No other usage is guaranteed across distributions of Kubernetes clusters."}}}}},
             {"data", {{"ca.crt", caPem_}}}};
  ApiResult<Json> written =
      current ? configMaps->update(ns, kRootCaConfigMap, "",
                                   [&](const Json*) -> ApiResult<Json> { return cm; }, {})
              : configMaps->create(ns, cm, {});
  if (!written && written.error().reason != kubeapi::reason::kAlreadyExists) {
    serverLogger()->warn("[ns={}] {}: {}", ns, kRootCaConfigMap, written.error().message);
  }
}

bool NamespaceControllers::deleteContent(const std::string& ns) {
  bool empty = true;
  for (const auto& entry : registry_.entries()) {
    if (!entry->served.namespaced || !entry->store) continue;
    ResourceStore& store = *entry->store;
    auto items =
        cache_.list(storage::namespacePrefix(entry->served.group, entry->served.resource, ns));
    for (const auto& item : items.items) {
      empty = false;
      const Json& object = item.object->json();
      if (!jsonString(jsonField(object, "metadata"), "deletionTimestamp").empty()) continue;
      auto removed = store.remove(ns, jsonString(jsonField(object, "metadata"), "name"), {});
      if (!removed && removed.error().reason != kubeapi::reason::kNotFound) {
        serverLogger()->warn("[ns={}] delete {} {}: {}", ns, entry->served.resource,
                             jsonString(jsonField(object, "metadata"), "name"),
                             removed.error().message);
      }
    }
  }
  return empty;
}

void NamespaceControllers::finalize(const std::string& ns) {
  ResourceStore* namespaces = registry_.store("", "namespaces");
  auto finalized = namespaces->update(
      "", ns, "finalize",
      [](const Json* current) -> ApiResult<Json> {
        if (!current) return apiFail(kubeapi::notFoundStatus({"", "namespaces"}, ""));
        Json object = *current;
        Json kept = Json::array();
        for (const Json& f : jsonField(jsonField(object, "spec"), "finalizers")) {
          if (f != "kubernetes") kept.push_back(f);
        }
        object["spec"]["finalizers"] = kept;
        return object;
      },
      {});
  if (!finalized && finalized.error().reason != kubeapi::reason::kNotFound) {
    serverLogger()->warn("[ns={}] finalize: {}", ns, finalized.error().message);
    return;
  }
  auto removed = namespaces->remove("", ns, {});
  if (!removed && removed.error().reason != kubeapi::reason::kNotFound) {
    serverLogger()->warn("[ns={}] delete: {}", ns, removed.error().message);
  }
}

}  // namespace berth::controlplane::apiserver
