#pragma once
// fsGroup: the pod's supplemental group owns its volumes (upstream pkg/volume/volume_linux.go
// SetVolumeOwnership), and FsUser for projected tokens (pkg/volume/util FsUserFrom).

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet::volume {

enum class FsGroupChangePolicy { kAlways, kOnRootMismatch };

// Every entry under dir (dir included, symlinks not followed) gets group fsGroup; entries that
// are not symlinks gain group and owner rw (r only when readOnly), directories also x and
// setgid so that new files inherit the group. kOnRootMismatch skips the walk when dir already
// has the group and those bits.
[[nodiscard]] Status setVolumeOwnership(const std::filesystem::path& dir, gid_t fsGroup,
                                        bool readOnly,
                                        FsGroupChangePolicy policy = FsGroupChangePolicy::kAlways);

// spec.securityContext.fsGroup.
std::optional<gid_t> fsGroupOf(const nlohmann::json& pod);
// spec.securityContext.fsGroupChangePolicy ("OnRootMismatch" or Always).
FsGroupChangePolicy fsGroupChangePolicyOf(const nlohmann::json& pod);
// The user every container runs as, when they all run as the same explicit one (pod or
// container securityContext.runAsUser); nullopt otherwise.
std::optional<uid_t> fsUserOf(const nlohmann::json& pod);

}  // namespace berth::kubelet::volume
