#pragma once
// Pod cgroups (the kubelet's pod and QoS container managers with cgroupsPerQOS): every pod gets a
// cgroup under its QoS class's — <root>/kubepods/pod<uid> (Guaranteed), <root>/kubepods/
// burstable/pod<uid>, <root>/kubepods/besteffort/pod<uid> with the cgroupfs driver, the matching
// kubepods-*.slice names with systemd — which becomes the sandbox's cgroup_parent. The kubelet
// creates it (cgroupfs) before the sandbox with the pod's limits (ResourceConfigForPod: shares
// from the summed requests, a quota and a memory limit when every container declares one), keeps
// the burstable class's cpu.shares at its pods' summed requests and the best-effort class's at
// the minimum, and removes the pod's cgroup once the pod is gone.
//
// A relative cgroupRoot nests under the kubelet's own cgroup, as the runtime resolves a
// relative cgroupsPath (runc's cgroupfs semantics): tests use it to stay inside their own.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "ocispec/runtime_spec.h"

namespace berth::kubelet {

struct PodCgroupOptions {
  bool cgroupsPerQos = true;
  std::string cgroupRoot;                 // "" is "/"
  std::string cgroupDriver = "cgroupfs";  // or "systemd"
  bool cpuCfsQuota = true;
  std::int64_t cpuCfsQuotaPeriodUs = 100000;
  std::int64_t podPidsLimit = -1;  // -1: none
};

// The pod cgroup's limits for its QoS class (pure; exposed for tests).
[[nodiscard]] Result<ocispec::Resources> podCgroupResources(const nlohmann::json& pod,
                                                            const PodCgroupOptions& options);

class PodCgroups {
 public:
  explicit PodCgroups(PodCgroupOptions options) : options_(std::move(options)) {}

  // The pod's cgroup parent for CRI ("" without cgroupsPerQOS: the runtime's default).
  std::string cgroupParent(const nlohmann::json& pod) const;
  // Creates the pod's cgroup in every hierarchy with its limits, and brings its QoS class's
  // cgroup up to date (cgroupfs; systemd creates slices itself).
  [[nodiscard]] Status ensure(const nlohmann::json& pod);
  // Removes the pod's cgroup, whatever its QoS class was; missing directories are fine.
  [[nodiscard]] Status remove(const std::string& podUid);

  // The cgroupfs path of a QoS class's cgroup, or of a pod's under it when `uid` is set.
  std::string cgroupfsPath(const std::string& qos, const std::string& uid) const;
  // The systemd slice path:
  // /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice
  static std::string systemdPath(const std::string& qos, const std::string& uid);

 private:
  // cpu.shares of the burstable and best-effort cgroups (UpdateCgroups upstream).
  [[nodiscard]] Status updateQosCgroups();

  PodCgroupOptions options_;
  std::mutex mu_;
  std::set<std::string> configured_;                  // pods whose limits are written
  std::map<std::string, std::int64_t> burstableCpu_;  // burstable pod UID → cpu request (milli)
  std::int64_t appliedBurstableShares_ = -1;
};

}  // namespace berth::kubelet
