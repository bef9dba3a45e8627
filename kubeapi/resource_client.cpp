#include "kubeapi/resource_client.h"

#include "kubeapi/object_meta.h"
#include "kubeapi/rest_client.h"

namespace berth::kubeapi {
namespace {

void addListQuery(ApiRequest& r, const ListOptions& o) {
  if (!o.labelSelector.empty()) r.query.emplace_back("labelSelector", o.labelSelector);
  if (!o.fieldSelector.empty()) r.query.emplace_back("fieldSelector", o.fieldSelector);
  if (!o.resourceVersion.empty()) r.query.emplace_back("resourceVersion", o.resourceVersion);
  if (!o.resourceVersionMatch.empty())
    r.query.emplace_back("resourceVersionMatch", o.resourceVersionMatch);
  if (o.limit) r.query.emplace_back("limit", std::to_string(*o.limit));
  if (!o.continueToken.empty()) r.query.emplace_back("continue", o.continueToken);
  if (o.timeoutSeconds) r.query.emplace_back("timeoutSeconds", std::to_string(*o.timeoutSeconds));
}

void addWriteQuery(ApiRequest& r, bool dryRun, const std::string& fieldManager,
                   const std::string& fieldValidation) {
  if (dryRun) r.query.emplace_back("dryRun", "All");
  if (!fieldManager.empty()) r.query.emplace_back("fieldManager", fieldManager);
  if (!fieldValidation.empty()) r.query.emplace_back("fieldValidation", fieldValidation);
}

std::string_view patchContentType(PatchType t) {
  switch (t) {
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

// A request body; strings that are not UTF-8 are replaced rather than thrown about.
std::string jsonBody(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json DeleteOptions::toJson() const {
  nlohmann::json j = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (gracePeriodSeconds) j["gracePeriodSeconds"] = *gracePeriodSeconds;
  if (!propagationPolicy.empty()) j["propagationPolicy"] = propagationPolicy;
  if (!preconditionUid.empty()) j["preconditions"]["uid"] = preconditionUid;
  if (!preconditionResourceVersion.empty())
    j["preconditions"]["resourceVersion"] = preconditionResourceVersion;
  if (dryRun) j["dryRun"] = {"All"};
  return j;
}

ResourceClient::ResourceClient(std::shared_ptr<RestClient> client, GroupVersionResource gvr,
                               bool namespaced)
    : client_(std::move(client)), gvr_(std::move(gvr)), namespaced_(namespaced) {}

ResourceClient ResourceClient::inNamespace(std::string_view ns) const {
  ResourceClient c = *this;
  c.namespace_ = namespaced_ ? std::string(ns) : std::string();
  return c;
}

std::string ResourceClient::path(std::string_view ns, std::string_view name,
                                 std::string_view subresource) const {
  std::string p =
      gvr_.group.empty() ? "/api/" + gvr_.version : "/apis/" + gvr_.group + "/" + gvr_.version;
  if (namespaced_ && !ns.empty()) p += "/namespaces/" + urlEncode(ns, true);
  p += "/" + gvr_.resource;
  if (!name.empty()) p += "/" + urlEncode(name, true);
  if (!subresource.empty()) p += "/" + std::string(subresource);
  return p;
}

ApiRequest ResourceClient::request(std::string verb, std::string_view ns, std::string_view name,
                                   std::string_view subresource) const {
  ApiRequest r;
  r.verb = std::move(verb);
  r.path = path(ns, name, subresource);
  r.target = {r.verb, gvr_.groupResource(), std::string(ns), std::string(name)};
  return r;
}

std::string ResourceClient::namespaceFor(const nlohmann::json& object) const {
  if (!namespaced_) return {};
  if (!namespace_.empty()) return namespace_;
  return std::string(namespaceOf(object));
}

ApiResult<nlohmann::json> ResourceClient::get(std::string_view name, const GetOptions& options,
                                              std::string_view subresource) const {
  auto r = request("GET", namespace_, name, subresource);
  if (!options.resourceVersion.empty())
    r.query.emplace_back("resourceVersion", options.resourceVersion);
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::list(const ListOptions& options) const {
  auto r = request("GET", namespace_, {}, {});
  addListQuery(r, options);
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::listAll(const ListOptions& options) const {
  ListOptions page = options;
  nlohmann::json result;
  while (true) {
    auto chunk = list(page);
    if (!chunk) {
      if (chunk.error().isResourceExpired() && !page.continueToken.empty()) {
        // client-go's pager: the snapshot is gone; list everything in one go instead.
        ListOptions full = options;
        full.limit.reset();
        full.continueToken.clear();
        return list(full);
      }
      return std::unexpected(std::move(chunk).error());
    }
    if (!chunk->is_object()) {
      return std::unexpected(
          ApiError::transport(Error(Code::kDataLoss, "list: the response is not an object"),
                              {"GET", gvr_.groupResource(), namespace_, ""}));
    }
    std::string next;
    if (auto m = chunk->find("metadata"); m != chunk->end() && m->is_object()) {
      if (auto c = m->find("continue"); c != m->end() && c->is_string())
        next = c->get<std::string>();
    }
    if (result.is_null()) {
      result = std::move(*chunk);
      if (!result["items"].is_array()) result["items"] = nlohmann::json::array();
    } else if (auto it = chunk->find("items"); it != chunk->end() && it->is_array()) {
      for (auto& item : *it)
        result["items"].push_back(std::move(item));
    }
    if (next.empty()) {
      if (auto m = result.find("metadata"); m != result.end() && m->is_object())
        m->erase("continue");
      return result;
    }
    page.continueToken = next;
  }
}

ApiResult<nlohmann::json> ResourceClient::create(const nlohmann::json& object,
                                                 const WriteOptions& options) const {
  auto r = request("POST", namespaceFor(object), {}, {});
  r.target.name = nameOf(object);
  addWriteQuery(r, options.dryRun, options.fieldManager, options.fieldValidation);
  r.body = jsonBody(object);
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::update(const nlohmann::json& object,
                                                 const WriteOptions& options,
                                                 std::string_view subresource) const {
  auto r = request("PUT", namespaceFor(object), nameOf(object), subresource);
  addWriteQuery(r, options.dryRun, options.fieldManager, options.fieldValidation);
  r.body = jsonBody(object);
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::patch(std::string_view name, PatchType type,
                                                std::string body, const PatchOptions& options,
                                                std::string_view subresource) const {
  auto r = request("PATCH", namespace_, name, subresource);
  addWriteQuery(r, options.dryRun, options.fieldManager, options.fieldValidation);
  if (options.force) r.query.emplace_back("force", *options.force ? "true" : "false");
  r.contentType = patchContentType(type);
  r.body = std::move(body);
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::apply(const nlohmann::json& object,
                                                std::string_view fieldManager, bool force,
                                                std::string_view subresource) const {
  ResourceClient scoped = inNamespace(namespaceFor(object));
  PatchOptions options{.fieldManager = std::string(fieldManager)};
  if (force) options.force = true;
  return scoped.patch(nameOf(object), PatchType::kApply, jsonBody(object), options, subresource);
}

ApiResult<nlohmann::json> ResourceClient::remove(std::string_view name,
                                                 const DeleteOptions& options) const {
  auto r = request("DELETE", namespace_, name, {});
  r.body = jsonBody(options.toJson());
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::removeCollection(const DeleteOptions& options,
                                                           const ListOptions& listOptions) const {
  auto r = request("DELETE", namespace_, {}, {});
  addListQuery(r, listOptions);
  r.body = jsonBody(options.toJson());
  return client_->sendJson(r);
}

ApiResult<nlohmann::json> ResourceClient::createSubresource(std::string_view name,
                                                            std::string_view subresource,
                                                            const nlohmann::json& body) const {
  auto r = request("POST", namespace_, name, subresource);
  r.body = jsonBody(body);
  return client_->sendJson(r);
}

ApiResult<std::unique_ptr<Watcher>> ResourceClient::watch(const ListOptions& options) const {
  auto r = request("GET", namespace_, {}, {});
  r.query.emplace_back("watch", "true");
  addListQuery(r, options);
  if (options.allowWatchBookmarks) r.query.emplace_back("allowWatchBookmarks", "true");
  if (options.sendInitialEvents)
    r.query.emplace_back("sendInitialEvents", *options.sendInitialEvents ? "true" : "false");
  return client_->watch(r);
}

}  // namespace berth::kubeapi
