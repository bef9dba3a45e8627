#include "kubelet/pod_resources.h"

#include <algorithm>
#include <vector>

#include "kubeapi/json_fields.h"
#include "kubeapi/quantity.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;
using kubeapi::jsonField;
using kubeapi::jsonString;

// The resources of one container (or the overhead), summed and maxed as a unit.
struct Amounts {
  std::int64_t cpuMilli = 0;
  std::int64_t memory = 0;
  std::map<std::string, std::int64_t> hugepages;

  void add(const Amounts& o) {
    cpuMilli += o.cpuMilli;
    memory += o.memory;
    for (const auto& [k, v] : o.hugepages)
      hugepages[k] += v;
  }
  void max(const Amounts& o) {
    cpuMilli = std::max(cpuMilli, o.cpuMilli);
    memory = std::max(memory, o.memory);
    for (const auto& [k, v] : o.hugepages)
      hugepages[k] = std::max(hugepages[k], v);
  }
};

Result<std::optional<kubeapi::Quantity>> quantityAt(const Json& list, const std::string& name,
                                                    const std::string& where) {
  const Json& v = jsonField(list, name);
  if (v.is_null()) return std::nullopt;
  auto q = kubeapi::Quantity::fromJson(v);
  if (!q) return fail(Code::kInvalidArgument, "{}.{}: {}", where, name, q.error().message());
  return *q;
}

Result<Amounts> amountsOf(const Json& list, const std::string& where) {
  Amounts a;
  if (auto cpu = BERTH_TRY(quantityAt(list, "cpu", where))) a.cpuMilli = cpu->milliValue();
  if (auto memory = BERTH_TRY(quantityAt(list, "memory", where))) a.memory = memory->value();
  if (list.is_object()) {
    for (const auto& [key, value] : list.items()) {
      if (!key.starts_with("hugepages-")) continue;
      if (auto q = BERTH_TRY(quantityAt(list, key, where))) a.hugepages[key] = q->value();
    }
  }
  return a;
}

// requests, with what a container limits but does not request asking for the limit.
Json effectiveRequests(const Json& resources) {
  Json requests = jsonField(resources, "requests");
  if (!requests.is_object()) requests = Json::object();
  const Json& limits = jsonField(resources, "limits");
  if (limits.is_object()) {
    for (const auto& [key, value] : limits.items()) {
      if (!requests.contains(key)) requests[key] = value;
    }
  }
  return requests;
}

// PodRequests/PodLimits' walk over the containers with `pick` giving each one's amounts.
template <typename Pick>
Result<Amounts> podTotal(const Json& spec, Pick pick) {
  Amounts total;
  for (const Json& c : kubeapi::jsonArray(spec, "containers")) {
    total.add(BERTH_TRY(pick(c)));
  }
  Amounts sidecars;  // restartable init containers started so far
  Amounts initPeak;  // the most any init step needs
  for (const Json& c : kubeapi::jsonArray(spec, "initContainers")) {
    Amounts own = BERTH_TRY(pick(c));
    if (jsonString(c, "restartPolicy") == "Always") {
      total.add(own);
      sidecars.add(own);
      initPeak.max(sidecars);
    } else {
      own.add(sidecars);
      initPeak.max(own);
    }
  }
  total.max(initPeak);
  return total;
}

}  // namespace

Result<PodResourceTotals> podResourceTotals(const Json& spec) {
  PodResourceTotals t;
  auto where = [](const Json& c, const char* kind) {
    return "container " + jsonString(c, "name") + ": resources." + kind;
  };
  Amounts requests = BERTH_TRY(podTotal(spec, [&](const Json& c) {
    return amountsOf(effectiveRequests(jsonField(c, "resources")), where(c, "requests"));
  }));
  Amounts limits = BERTH_TRY(podTotal(spec, [&](const Json& c) -> Result<Amounts> {
    const Json& list = jsonField(jsonField(c, "resources"), "limits");
    Amounts a = BERTH_TRY(amountsOf(list, where(c, "limits")));
    if (a.cpuMilli == 0) t.cpuLimitsDeclared = false;
    if (a.memory == 0) t.memoryLimitsDeclared = false;
    return a;
  }));
  Amounts overhead = BERTH_TRY(amountsOf(jsonField(spec, "overhead"), "overhead"));
  requests.add(overhead);
  limits.add(overhead);
  t.cpuRequestMilli = requests.cpuMilli;
  t.memoryRequest = requests.memory;
  t.cpuLimitMilli = limits.cpuMilli;
  t.memoryLimit = limits.memory;
  t.hugepageRequests = requests.hugepages;
  return t;
}

std::string hugepagePageSize(const std::string& resourceName) {
  std::string size = resourceName.substr(resourceName.find('-') + 1);
  for (const char* binary : {"Ki", "Mi", "Gi"}) {
    if (size.ends_with(binary)) return size.substr(0, size.size() - 2) + binary[0] + "B";
  }
  return size;
}

std::int64_t milliCpuToShares(std::int64_t milli) {
  constexpr std::int64_t kMinShares = 2, kMaxShares = 262144;
  if (milli == 0) return kMinShares;
  return std::clamp<std::int64_t>(milli * 1024 / 1000, kMinShares, kMaxShares);
}

std::int64_t milliCpuToQuota(std::int64_t milli, std::int64_t periodUs) {
  constexpr std::int64_t kMinQuotaUs = 1000;
  if (milli == 0) return 0;
  return std::max(milli * periodUs / 1000, kMinQuotaUs);
}

}  // namespace berth::kubelet
