#pragma once
// Garbage collection and disk usage of the image store (paths.h). A blob is live when an image
// record names it (index, manifest, config, layer); a snapshot is live when a record's chain ids
// or a container's mount.json name it. Pulls hold the store lock shared and GC holds it
// exclusive, so GC never removes what a pull has fetched but not yet recorded.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::images {

// Partial downloads are kept this long for a retried pull to resume, then collected.
inline constexpr std::chrono::hours kIngestExpiry{24};

struct GcResult {
  std::vector<std::string> blobsRemoved;      // digests
  std::vector<std::string> snapshotsRemoved;  // chain ids
  std::vector<std::string> ingestsRemoved;    // hex of partial downloads past kIngestExpiry
  uint64_t bytesFreed = 0;
};

// CRI ImageFsInfo: bytes and inodes used under the root.
struct DiskUsage {
  uint64_t bytes = 0;
  uint64_t inodes = 0;
};

// flock on <root>/locks/store: shared for a pull or an unpack, exclusive for GC.
[[nodiscard]] Result<UniqueFd> lockStore(const std::filesystem::path& root, bool exclusive);

[[nodiscard]] Result<GcResult> collectGarbage(const std::filesystem::path& root);
[[nodiscard]] Result<DiskUsage> diskUsage(const std::filesystem::path& root);

}  // namespace berth::images
