#pragma once
// Pod cgroups (the kubelet's pod container manager with cgroupsPerQOS): every pod gets a cgroup
// under its QoS class's — <root>/kubepods/pod<uid> (Guaranteed), <root>/kubepods/burstable/
// pod<uid>, <root>/kubepods/besteffort/pod<uid> with the cgroupfs driver, the matching
// kubepods-*.slice names with systemd — which becomes the sandbox's cgroup_parent. The kubelet
// creates it (cgroupfs) before the sandbox and removes it once the pod is gone.
//
// A relative cgroupRoot nests under the kubelet's own cgroup, as the runtime resolves a
// relative cgroupsPath (runc's cgroupfs semantics): tests use it to stay inside their own.
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet {

struct PodCgroupOptions {
  bool cgroupsPerQos = true;
  std::string cgroupRoot;                 // "" is "/"
  std::string cgroupDriver = "cgroupfs";  // or "systemd"
};

class PodCgroups {
 public:
  explicit PodCgroups(PodCgroupOptions options) : options_(std::move(options)) {}

  // The pod's cgroup parent for CRI ("" without cgroupsPerQOS: the runtime's default).
  std::string cgroupParent(const nlohmann::json& pod) const;
  // Creates the pod's cgroup in every hierarchy (cgroupfs; systemd creates slices itself).
  [[nodiscard]] Status ensure(const nlohmann::json& pod) const;
  // Removes the pod's cgroup, whatever its QoS class was; missing directories are fine.
  [[nodiscard]] Status remove(const std::string& podUid) const;

  // The cgroupfs name for a QoS class and UID (exposed for tests).
  std::string cgroupfsPath(const std::string& qos, const std::string& uid) const;
  // The systemd slice path:
  // /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice
  static std::string systemdPath(const std::string& qos, const std::string& uid);

 private:
  PodCgroupOptions options_;
};

}  // namespace berth::kubelet
