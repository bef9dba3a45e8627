#pragma once
// emptyDir volumes (upstream pkg/volume/emptydir), and the directory every projected volume
// sits in: a 0777 directory on the kubelet's disk, or a tmpfs mount for medium Memory (and
// for the secret, downwardAPI and projected plugins, which wrap a Memory emptyDir so that
// secrets never reach a disk).

#include <cstdint>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace berth::kubelet::volume {

inline constexpr mode_t kEmptyDirMode = 0777;

// mkdir -p, then chmod 0777 whatever the umask.
[[nodiscard]] Status setUpEmptyDirectory(const std::filesystem::path& dir);

// The tmpfs size for a memory-backed volume (calculateEmptyDirMemorySize): node allocatable
// memory, lowered to the pod's memory limit (when every container declares one) and to the
// volume's sizeLimit when they are positive and smaller. 0: unknown, the kernel's default.
[[nodiscard]] Result<std::int64_t> memoryBackedVolumeSize(const nlohmann::json& pod,
                                                          const nlohmann::json& sizeLimit,
                                                          const nlohmann::json& nodeAllocatable);

// Whether dir is itself the root of a tmpfs mount.
[[nodiscard]] Result<bool> isTmpfsMountPoint(const std::filesystem::path& dir);

// setUpEmptyDirectory, then a tmpfs mounted on it with size= (no size when 0) unless one is
// there already. Returns whether this call mounted it. The mount outlives this call; tearDown
// finds it on disk.
[[nodiscard]] Result<bool> setUpTmpfs(const std::filesystem::path& dir, std::int64_t sizeBytes);

}  // namespace berth::kubelet::volume
