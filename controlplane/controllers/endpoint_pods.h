#pragma once
// What the EndpointSlice and Endpoints controllers both read from a Service and its pods, as
// upstream's pkg/controller/util/endpoint and endpointslice/util: the selector, which pods
// count, their readiness, the port a Service port reaches on a pod, and the time a change was
// triggered (endpoints.kubernetes.io/last-change-trigger-time).
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"
#include "kubeapi/object_cache.h"

namespace berth::controlplane::controllers {

inline constexpr const char* kTriggerTimeAnnotation =
    "endpoints.kubernetes.io/last-change-trigger-time";
inline constexpr const char* kHeadlessLabel = "service.kubernetes.io/headless";

// spec.selector, or nullopt when the Service has none (such Services are left to their owner).
// An empty map reads as none: upstream's omitempty drops it before any controller sees it.
std::optional<std::map<std::string, std::string>> serviceSelector(const nlohmann::json& service);
bool selectorMatches(const std::map<std::string, std::string>& selector, const nlohmann::json& pod);
// spec.clusterIP is "None".
bool isHeadless(const nlohmann::json& service);

// The pods of `namespace` the selector picks, by name.
std::vector<kubeapi::ObjectPtr> selectedPods(const kubeapi::ObjectCache& pods,
                                             const nlohmann::json& service);
// Keys ("ns/name") of the Services with a selector that picks `pod`.
std::vector<std::string> servicesSelecting(const kubeapi::ObjectCache& services,
                                           const nlohmann::json& pod);

// The Services a pod's change concerns: those selecting it now, and before when its labels
// changed (oldPod is null for an add or a delete).
std::set<std::string> servicesOfPodChange(const kubeapi::ObjectCache& services,
                                          const kubeapi::ObjectPtr& oldPod,
                                          const kubeapi::ObjectPtr& newPod);

// podutil.IsPodReady: the Ready condition is True.
bool podReady(const nlohmann::json& pod);

// The ObjectReference an endpoint's targetRef holds for its pod.
nlohmann::json podReference(const nlohmann::json& pod);
// endpointsliceutil.ShouldPodBeInEndpoints: not terminal, has an IP, and not terminating unless
// `includeTerminating`.
bool shouldPodBeInEndpoints(const nlohmann::json& pod, bool includeTerminating);
// podutil.FindPort: the container port a Service port's targetPort names (by name and
// protocol), or its number; nullopt when a named port is not on the pod.
std::optional<int> findPort(const nlohmann::json& pod, const nlohmann::json& servicePort);
// endpointutil.ShouldSetHostname: the pod's hostname is published when its subdomain is the
// Service's name.
bool shouldSetHostname(const nlohmann::json& pod, const nlohmann::json& service);
// The pod's IPs of one family (4 or 6), from status.podIPs (or status.podIP).
std::vector<std::string> podIpsOf(const nlohmann::json& pod, int family);
int ipFamilyOf(const std::string& ip);  // 4, 6, or 0 when not an IP
// The Service's families from spec.ipFamilies, else from its clusterIP, else (headless) both,
// as upstream's getAddressTypesForService.
std::vector<int> serviceFamilies(const nlohmann::json& service);

// endpointutil.TriggerTimeTracker: for each sync of a Service, the earliest trigger time (a
// pod's Ready transition, the Service's creation) among what changed since the last sync, or
// nullopt when nothing did.
class TriggerTimeTracker {
 public:
  std::optional<kubeapi::Time> compute(const nlohmann::json& service,
                                       const std::vector<kubeapi::ObjectPtr>& pods);
  void forget(const std::string& serviceKey);

 private:
  struct State {
    std::optional<kubeapi::Time> serviceTime;
    std::map<std::string, std::optional<kubeapi::Time>> podTimes;
  };
  std::mutex mu_;
  std::map<std::string, State> states_;
};

}  // namespace berth::controlplane::controllers
