#pragma once
// What a reflector lists and watches (client-go's cache.ListerWatcher): one page of a list and
// a watch, both with ListOptions. ResourceListerWatcher does it for one resource over the REST
// client, with fixed selectors (a kubelet's pods: fieldSelector spec.nodeName=<node>).
#include <memory>

#include <nlohmann/json.hpp>

#include "kubeapi/api_error.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/watch.h"

namespace berth::kubeapi {

class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;
  [[nodiscard]] virtual ApiResult<nlohmann::json> list(const ListOptions& options) = 0;
  [[nodiscard]] virtual ApiResult<std::unique_ptr<Watcher>> watch(const ListOptions& options) = 0;
};

class ResourceListerWatcher final : public ListerWatcher {
 public:
  ResourceListerWatcher(ResourceClient resource, std::string labelSelector = {},
                        std::string fieldSelector = {})
      : resource_(std::move(resource)),
        labelSelector_(std::move(labelSelector)),
        fieldSelector_(std::move(fieldSelector)) {}

  ApiResult<nlohmann::json> list(const ListOptions& options) override {
    return resource_.list(withSelectors(options));
  }
  ApiResult<std::unique_ptr<Watcher>> watch(const ListOptions& options) override {
    return resource_.watch(withSelectors(options));
  }

 private:
  ListOptions withSelectors(ListOptions o) const {
    o.labelSelector = labelSelector_;
    o.fieldSelector = fieldSelector_;
    return o;
  }
  ResourceClient resource_;
  std::string labelSelector_;
  std::string fieldSelector_;
};

}  // namespace berth::kubeapi
