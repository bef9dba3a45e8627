#pragma once
// A pod's resources as one unit (resourcehelper.PodRequests/PodLimits upstream): app containers
// and sidecars (restartable init containers) run together and add up; an init container runs
// alone beside the sidecars started before it, so the pod needs the larger of the two; the
// pod's overhead comes on top. And the CFS conversions the kubelet uses for containers and pods.
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet {

struct PodResourceTotals {
  std::int64_t cpuRequestMilli = 0;
  std::int64_t cpuLimitMilli = 0;
  std::int64_t memoryRequest = 0;
  std::int64_t memoryLimit = 0;
  // Every container limits cpu (memory): only then does the pod's cgroup get a quota (limit).
  bool cpuLimitsDeclared = true;
  bool memoryLimitsDeclared = true;
  std::map<std::string, std::int64_t> hugepageRequests;  // "hugepages-2Mi" → bytes
};

// Takes the pod spec. A container's request defaults to its limit (as the API's defaulting
// does; static pods may skip it). A malformed quantity is an error naming the container.
[[nodiscard]] Result<PodResourceTotals> podResourceTotals(const nlohmann::json& spec);

// "hugepages-2Mi" (the resource) → "2MB" (the page size as CRI and cgroup files name it).
std::string hugepagePageSize(const std::string& resourceName);

// cpu.shares for a request (MilliCPUToShares): 2 for none, at most 262144.
std::int64_t milliCpuToShares(std::int64_t milli);
// cpu.cfs_quota_us for a limit over a period (MilliCPUToQuota): 0 for none, at least 1 ms.
std::int64_t milliCpuToQuota(std::int64_t milli, std::int64_t periodUs);

}  // namespace berth::kubelet
