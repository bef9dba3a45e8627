#include "kubeapi/pod_qos.h"

#include <map>

#include "kubeapi/json_fields.h"
#include "kubeapi/quantity.h"

namespace berth::kubeapi {
namespace {

// Adds the positive cpu/memory quantities of `list` into `sums`; returns the names found.
int addPositive(const nlohmann::json& list, std::map<std::string, Quantity>& sums) {
  int found = 0;
  for (const char* r : {"cpu", "memory"}) {
    auto q = Quantity::fromJson(jsonField(list, r));
    if (!q || q->sign() <= 0) continue;
    sums[r].add(*q);
    ++found;
  }
  return found;
}

}  // namespace

// As upstream: requests and limits are summed over all containers and compared as sums.
std::string podQosClass(const nlohmann::json& spec) {
  std::map<std::string, Quantity> requests;
  std::map<std::string, Quantity> limits;
  bool guaranteed = true;
  for (const char* list : {"initContainers", "containers"}) {
    for (const nlohmann::json& c : jsonArray(spec, list)) {
      const nlohmann::json& resources = jsonField(c, "resources");
      addPositive(jsonField(resources, "requests"), requests);
      if (addPositive(jsonField(resources, "limits"), limits) != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  for (const auto& [name, request] : requests) {
    auto it = limits.find(name);
    if (it == limits.end() || !(it->second == request)) guaranteed = false;
  }
  return guaranteed ? "Guaranteed" : "Burstable";
}

}  // namespace berth::kubeapi
