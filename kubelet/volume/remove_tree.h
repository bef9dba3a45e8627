#pragma once
// Removing a pod's directories after its mounts were detached: rm -rf that never follows a
// symlink and never descends into a mount point. A mount still there (a detach that failed, a
// mount somebody else made) is an error instead of a tree to empty (upstream
// RemoveAllOneFilesystem).

#include <filesystem>

#include "common/result.h"

namespace berth::kubelet::volume {

// A path that is already gone is success.
[[nodiscard]] Status removeTreeOneFilesystem(const std::filesystem::path& path);

}  // namespace berth::kubelet::volume
