#include "kubelet/api_object_source.h"

#include "kubeapi/json_fields.h"
#include "kubeapi/resource_client.h"

namespace berth::kubelet {
namespace {

constexpr std::chrono::seconds kServicesTimeout{5};

Result<nlohmann::json> getObject(const kubeapi::ResourceClient& resource, std::string_view name) {
  auto obj = resource.get(name);
  if (!obj) return std::unexpected(obj.error().toError());
  return std::move(*obj);
}

std::string cacheKey(const volume::TokenRequest& r) {
  nlohmann::json key = {{"ns", r.namespace_}, {"sa", r.serviceAccountName},
                        {"aud", r.audiences}, {"exp", r.expirationSeconds},
                        {"pod", r.podName},   {"uid", r.podUid}};
  return key.dump();
}

}  // namespace

Result<nlohmann::json> ApiObjectSource::configMap(std::string_view ns, std::string_view name) {
  return getObject(api_->resource({"", "v1", "configmaps"}).inNamespace(ns), name);
}

Result<nlohmann::json> ApiObjectSource::secret(std::string_view ns, std::string_view name) {
  return getObject(api_->resource({"", "v1", "secrets"}).inNamespace(ns), name);
}

Result<nlohmann::json> ApiObjectSource::persistentVolumeClaim(std::string_view ns,
                                                              std::string_view name) {
  return getObject(api_->resource({"", "v1", "persistentvolumeclaims"}).inNamespace(ns), name);
}

Result<nlohmann::json> ApiObjectSource::persistentVolume(std::string_view name) {
  return getObject(api_->resource({"", "v1", "persistentvolumes"}, false), name);
}

Result<nlohmann::json> ApiObjectSource::runtimeClass(const std::string& name) {
  return getObject(api_->resource({"node.k8s.io", "v1", "runtimeclasses"}, false), name);
}

ApiObjectSource::ApiObjectSource(std::shared_ptr<kubeapi::RestClient> api) : api_(std::move(api)) {
  kubeapi::RestConfig config = api_->config();
  config.timeout = kServicesTimeout;
  services_ = kubeapi::RestClient::create(config, {.maxRetries = 0}).value_or(api_);
}

Result<std::vector<nlohmann::json>> ApiObjectSource::services(const std::string& ns) {
  auto list = services_->resource({"", "v1", "services"}).inNamespace(ns).list();
  if (!list) return std::unexpected(list.error().toError());
  std::vector<nlohmann::json> items;
  for (const auto& item : kubeapi::jsonArray(*list, "items"))
    items.push_back(item);
  return items;
}

Result<std::string> ApiObjectSource::serviceAccountToken(const volume::TokenRequest& r) {
  const std::string key = cacheKey(r);
  {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end() && std::chrono::steady_clock::now() < it->second.refreshAt) {
      return it->second.token;
    }
  }
  nlohmann::json body = {
      {"apiVersion", "authentication.k8s.io/v1"},
      {"kind", "TokenRequest"},
      {"spec",
       {{"audiences", r.audiences},
        {"expirationSeconds", r.expirationSeconds},
        {"boundObjectRef",
         {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", r.podName}, {"uid", r.podUid}}}}}};
  auto sa = api_->resource({"", "v1", "serviceaccounts"}).inNamespace(r.namespace_);
  auto resp = sa.createSubresource(r.serviceAccountName, "token", body);
  if (!resp) return std::unexpected(resp.error().toError());
  std::string token = kubeapi::jsonString(kubeapi::jsonField(*resp, "status"), "token");
  if (token.empty()) {
    return fail(Code::kInternal, "TokenRequest for {}/{}: no token in the answer", r.namespace_,
                r.serviceAccountName);
  }
  // Refresh after 80% of the lifetime the server granted (we asked for; it may grant less).
  auto lifetime = std::chrono::seconds(r.expirationSeconds) * 8 / 10;
  std::lock_guard lock(mu_);
  tokens_[key] = {token, std::chrono::steady_clock::now() + lifetime};
  return token;
}

}  // namespace berth::kubelet
