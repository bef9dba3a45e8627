#pragma once
// The cgroup driver berth-cri is configured with (cri.yaml cgroup_driver), shared by the config,
// the spec builder and the pod/container managers.
#include <string_view>

namespace berth::cri {

enum class CgroupDriver { kCgroupfs, kSystemd };
std::string_view cgroupDriverName(CgroupDriver driver);

}  // namespace berth::cri
