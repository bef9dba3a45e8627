#pragma once
// Bytes and inodes a directory tree holds (a container's overlay upper dir: its writable layer),
// counted as containerd's snapshotters count them (continuity fs.DiskUsage, `du` semantics):
// allocated blocks × 512 of each distinct inode, the root included. Symlinks are not followed,
// other filesystems mounted inside are not entered, and a file with several hard links counts once.

#include <cstdint>
#include <filesystem>

#include "common/result.h"

namespace berth::cri::stats {

struct DiskUsage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};

// NotFound when `dir` does not exist; entries removed while walking are skipped.
[[nodiscard]] Result<DiskUsage> diskUsage(const std::filesystem::path& dir);

}  // namespace berth::cri::stats
