#pragma once
// The verbs on one resource (client-go's dynamic client: Resource(gvr).Namespace(ns)), over a
// RestClient, with objects as JSON:
//   auto pods = client->resource({"", "v1", "pods"}).inNamespace("default");
//   auto pod = pods.get("web-0");                       // ApiResult<json>
//   pods.patch("web-0", PatchType::kStrategicMerge, R"({"metadata":{"labels":{"a":"b"}}})");
//   pods.remove("web-0", {.gracePeriodSeconds = 0});
//   auto w = pods.watch({.resourceVersion = rv, .allowWatchBookmarks = true});
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kubeapi/api_error.h"
#include "kubeapi/group_version.h"
#include "kubeapi/watch.h"

namespace berth::kubeapi {

class RestClient;
struct ApiRequest;

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  std::string resourceVersionMatch;  // "NotOlderThan", "Exact"
  std::optional<std::int64_t> limit;
  std::string continueToken;
  std::optional<std::int64_t> timeoutSeconds;
  bool allowWatchBookmarks = false;  // watch only
  std::optional<bool> sendInitialEvents;
};

struct GetOptions {
  std::string resourceVersion;
};

struct WriteOptions {
  bool dryRun = false;  // dryRun=All
  std::string fieldManager;
  std::string fieldValidation;  // "Strict", "Warn", "Ignore"
};

enum class PatchType { kJson, kMerge, kStrategicMerge, kApply };

struct PatchOptions {
  bool dryRun = false;
  std::string fieldManager;   // required by the server for kApply
  std::optional<bool> force;  // kApply: take over conflicting fields
  std::string fieldValidation;
};

struct DeleteOptions {
  std::optional<std::int64_t> gracePeriodSeconds;
  std::string propagationPolicy;  // "Orphan", "Background", "Foreground"
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;

  nlohmann::json toJson() const;  // the v1 DeleteOptions body
};

class ResourceClient {
 public:
  ResourceClient(std::shared_ptr<RestClient> client, GroupVersionResource gvr, bool namespaced);
  // The same resource in one namespace (for a namespaced resource; "" = all namespaces).
  ResourceClient inNamespace(std::string_view ns) const;

  [[nodiscard]] ApiResult<nlohmann::json> get(std::string_view name, const GetOptions& options = {},
                                              std::string_view subresource = {}) const;
  // One page (limit/continue as the options say).
  [[nodiscard]] ApiResult<nlohmann::json> list(const ListOptions& options = {}) const;
  // Every page, as client-go's pager: the items of all pages in the first page's list; an
  // expired continue token starts over without a limit.
  [[nodiscard]] ApiResult<nlohmann::json> listAll(const ListOptions& options = {}) const;
  // POST to the collection (namespace from the client, else from the object).
  [[nodiscard]] ApiResult<nlohmann::json> create(const nlohmann::json& object,
                                                 const WriteOptions& options = {}) const;
  // PUT of the object (named by its metadata), or of its subresource ("status").
  [[nodiscard]] ApiResult<nlohmann::json> update(const nlohmann::json& object,
                                                 const WriteOptions& options = {},
                                                 std::string_view subresource = {}) const;
  [[nodiscard]] ApiResult<nlohmann::json> updateStatus(const nlohmann::json& object) const {
    return update(object, {}, "status");
  }
  [[nodiscard]] ApiResult<nlohmann::json> patch(std::string_view name, PatchType type,
                                                std::string body, const PatchOptions& options = {},
                                                std::string_view subresource = {}) const;
  // Server-side apply of the object (named by its metadata).
  [[nodiscard]] ApiResult<nlohmann::json> apply(const nlohmann::json& object,
                                                std::string_view fieldManager, bool force = false,
                                                std::string_view subresource = {}) const;
  // DELETE; the answer is the object (still terminating) or a Success Status.
  [[nodiscard]] ApiResult<nlohmann::json> remove(std::string_view name,
                                                 const DeleteOptions& options = {}) const;
  [[nodiscard]] ApiResult<nlohmann::json> removeCollection(const DeleteOptions& options,
                                                           const ListOptions& listOptions) const;
  // POST to a subresource of an object: pods/binding, pods/eviction, serviceaccounts/token.
  [[nodiscard]] ApiResult<nlohmann::json> createSubresource(std::string_view name,
                                                            std::string_view subresource,
                                                            const nlohmann::json& body) const;
  [[nodiscard]] ApiResult<std::unique_ptr<Watcher>> watch(const ListOptions& options = {}) const;

  // "/api/v1/namespaces/default/pods/x/status".
  std::string path(std::string_view ns, std::string_view name = {},
                   std::string_view subresource = {}) const;
  const GroupVersionResource& gvr() const { return gvr_; }
  const std::string& ns() const { return namespace_; }

 private:
  ApiRequest request(std::string verb, std::string_view ns, std::string_view name,
                     std::string_view subresource) const;
  std::string namespaceFor(const nlohmann::json& object) const;

  std::shared_ptr<RestClient> client_;
  GroupVersionResource gvr_;
  bool namespaced_;
  std::string namespace_;
};

}  // namespace berth::kubeapi
