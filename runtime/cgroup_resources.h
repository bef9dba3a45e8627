#pragma once
// runtime-spec linux.resources → cgroup file writes, for v1 (a file per controller hierarchy)
// and v2 (one directory), with runc's v1→v2 conversions. Pure: the plan is a list of writes that
// CgroupManager::apply() performs in order, so the translation is tested without a kernel.

#include <string>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::runtime {

struct CgroupWrite {
  std::string controller;  // v1 controller ("memory", "cpu", ...); v2: the controller to enable
                           // in the parents ("" for core files like cgroup.freeze)
  std::string file;        // file name in the container's cgroup directory
  std::string value;
  std::string field;     // the spec field it comes from, for errors
  bool mayFail = false;  // an ordering attempt (v1 memsw before the limit): failure is fine
};

[[nodiscard]] Result<std::vector<CgroupWrite>> planResourcesV1(const ocispec::Resources& r);
[[nodiscard]] Result<std::vector<CgroupWrite>> planResourcesV2(const ocispec::Resources& r);

// Device rules as the runtime applies them: the spec's rules, then runc's default allow list
// (so the default /dev works).
std::vector<ocispec::DeviceCgroup> effectiveDeviceRules(const ocispec::Spec& spec);

// v1 devices.allow / devices.deny writes, in rule order.
std::vector<CgroupWrite> planDevicesV1(const std::vector<ocispec::DeviceCgroup>& rules);

// systemd unit properties for v2 writes it has a property for (MemoryMax, TasksMax, CPUWeight,
// CPUQuotaPerSecUSec, AllowedCPUs, ...), as runc's systemd driver sets them.
std::vector<struct UnitProperty> unitPropertiesFor(const std::vector<CgroupWrite>& writes);

// runc's conversions (libcontainer/cgroups/utils.go), exposed for tests.
uint64_t cpuSharesToWeight(uint64_t shares);
uint16_t blkioWeightToIoWeight(uint16_t weight);
// v1 memory+swap limit → v2 memory.swap.max ("max", or the swap part alone).
[[nodiscard]] Result<std::string> swapToV2(int64_t swap, int64_t limit);
// "2MB" → "2MB" as hugetlb file names spell it; rejects unknown sizes.
[[nodiscard]] Result<std::string> hugepageSizeName(const std::string& pageSize);
// One v1 device rule line ("c 1:3 rwm", "a *:* rwm").
std::string deviceRuleString(const ocispec::DeviceCgroup& rule);

}  // namespace berth::runtime
