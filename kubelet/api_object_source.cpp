#include "kubelet/api_object_source.h"

#include "kubeapi/resource_client.h"

namespace berth::kubelet {
namespace {

Result<nlohmann::json> getObject(kubeapi::ResourceClient resource, const std::string& name) {
  auto obj = resource.get(name);
  if (!obj) return std::unexpected(obj.error().toError());
  return std::move(*obj);
}

}  // namespace

Result<nlohmann::json> ApiObjectSource::configMap(const std::string& ns, const std::string& name) {
  return getObject(api_->resource({"", "v1", "configmaps"}).inNamespace(ns), name);
}

Result<nlohmann::json> ApiObjectSource::secret(const std::string& ns, const std::string& name) {
  return getObject(api_->resource({"", "v1", "secrets"}).inNamespace(ns), name);
}

Result<nlohmann::json> ApiObjectSource::runtimeClass(const std::string& name) {
  return getObject(api_->resource({"node.k8s.io", "v1", "runtimeclasses"}, false), name);
}

Result<std::vector<nlohmann::json>> ApiObjectSource::services(const std::string& ns) {
  auto list = api_->resource({"", "v1", "services"}).inNamespace(ns).list();
  if (!list) return std::unexpected(list.error().toError());
  std::vector<nlohmann::json> items;
  if (list->contains("items") && (*list)["items"].is_array()) {
    for (auto& item : (*list)["items"])
      items.push_back(std::move(item));
  }
  return items;
}

}  // namespace berth::kubelet
