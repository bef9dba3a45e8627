#pragma once
// The EndpointSlice controller's reconciler as a pure function (upstream's
// pkg/controller/endpointslice reconciler.reconcileByAddressType): from a Service, its pods and
// the slices it has, the slices to create, update and delete. Per address family, endpoints are
// grouped by their resolved ports; an endpoint stays in the slice it is in, slices that need an
// update anyway are filled first, new slices hold up to maxEndpointsPerSlice, and a Service with
// no endpoints of a family keeps one placeholder slice of that family.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/object_cache.h"

namespace berth::controlplane::controllers {

inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kManagedByLabel = "endpointslice.kubernetes.io/managed-by";
inline constexpr const char* kEndpointSliceControllerName = "endpointslice-controller.k8s.io";
inline constexpr size_t kMaxEndpointsPerSlice = 100;  // --max-endpoints-per-slice

struct SlicePlanInput {
  const nlohmann::json& service;
  const std::vector<kubeapi::ObjectPtr>& pods;
  // The slices labelled as this controller's for the Service.
  const std::vector<kubeapi::ObjectPtr>& existing;
  // The zone label of a node ("" when it has none), nullopt when the node is not known.
  std::function<std::optional<std::string>(const std::string& nodeName)> nodeZone;
  size_t maxEndpointsPerSlice = kMaxEndpointsPerSlice;
};

struct SlicePlan {
  std::vector<nlohmann::json> create;  // with metadata.generateName
  std::vector<nlohmann::json> update;  // existing slices with their resourceVersion, changed
  std::vector<nlohmann::json> remove;  // existing slices
  // Pods left out because their node is not known yet (upstream retries the Service later).
  std::vector<std::string> skippedPods;

  bool empty() const { return create.empty() && update.empty() && remove.empty(); }
};

SlicePlan planEndpointSlices(const SlicePlanInput& in);

}  // namespace berth::controlplane::controllers
