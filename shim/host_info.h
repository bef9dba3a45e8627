#pragma once
// What the container spec builder reads from the host: which mount a path lives on and its
// propagation (mountinfo), device nodes (stat), AppArmor profiles, capability names. Kept apart
// from container_spec.cpp so it is tested without the CRI types.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ocispec/runtime_spec.h"
#include "shim/container_spec.h"

namespace berth::cri {

struct MountInfo {
  std::string mountPoint;
  // The optional fields of proc(5) mountinfo ("shared:1 master:2"), space-separated.
  std::string optional;
};

// proc(5) /proc/<pid>/mountinfo; octal escapes (\040) in the mount point are decoded.
[[nodiscard]] Result<std::vector<MountInfo>> parseMountInfo(std::string_view text);
// The mount `path` (absolute, symlinks resolved) lives on: the last-listed mount whose mount
// point is the longest path prefix of it.
const MountInfo* lookupMount(const std::vector<MountInfo>& mounts, std::string_view path);
bool isSharedMount(const MountInfo& m);
bool isSharedOrSlaveMount(const MountInfo& m);

struct HostPath {
  std::string resolved;  // symlinks resolved; missing trailing components appended as given
  bool exists = false;
};
// Resolves a host path as containerd does before bind mounting it (filepath.EvalSymlinks), but
// also for a path that does not exist yet: its nearest existing ancestor is resolved.
[[nodiscard]] Result<HostPath> resolveHostPath(const std::filesystem::path& path);

// The device nodes at `hostPath` (a node, or a directory walked as containerd's getDevices does),
// with major/minor, mode and owner from the host, placed at `containerPath`. A path that is
// neither a device nor a directory of devices is an error.
[[nodiscard]] Result<std::vector<ocispec::Device>> devicesFromPath(
    const std::string& hostPath, const std::string& containerPath);

// A CAP_* name libcap knows.
bool isKnownCapability(const std::string& name);
// The capability bounding set of this process, as CAP_* names (containerd's cap.Current(), the
// set a privileged container gets).
[[nodiscard]] Result<std::vector<std::string>> currentCapabilities();

// Whether the kernel has loaded AppArmor profile `name` (a line "<name> (mode)" in profilesFile,
// normally /sys/kernel/security/apparmor/profiles).
[[nodiscard]] Result<bool> appArmorProfileLoaded(const std::filesystem::path& profilesFile,
                                                 std::string_view name);

// The HostFacts of this node as containerd finds them: cgroup v2 or not, swap and hugetlb
// controllers, seccomp/AppArmor/SELinux, this process's oom_score_adj as the floor (this host
// can't lower it), the hostname and the capability bounding set. The default seccomp profile
// and the paths keep their defaults.
[[nodiscard]] Result<HostFacts> detectHostFacts(CgroupDriver driver);

}  // namespace berth::cri
