#pragma once
// Unpacked layers under <root>/snapshots (paths.h), one directory per chain id, each unpacked
// once: a second unpack of the same chain id (a concurrent pull, another image sharing the layer)
// waits on the snapshot's lock and finds it done. An unpack happens in snapshots/.tmp and is
// renamed into place only after the diff id matched; on any error the directory is removed.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "images/layer_unpacker.h"

namespace berth::images {

struct SnapshotInfo {
  std::string chainId;
  std::string diffId;
  std::string parent;  // chain id of the layer below, empty for the first
};

class Snapshotter {
 public:
  [[nodiscard]] static Result<Snapshotter> open(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  bool has(std::string_view chainId) const;
  // <root>/snapshots/<hex>/fs: the overlay lower dir of this chain id.
  [[nodiscard]] Result<std::filesystem::path> fsPath(std::string_view chainId) const;
  [[nodiscard]] Result<SnapshotInfo> info(std::string_view chainId) const;
  // Unpacks the layer in blobFd as snapshot `chainId` unless it exists. The unpacked stream must
  // hash to `diffId` (kDataLoss otherwise, naming both).
  [[nodiscard]] Status unpack(const SnapshotInfo& snapshot, int blobFd,
                              const UnpackOptions& options);
  [[nodiscard]] Status remove(std::string_view chainId);
  [[nodiscard]] Result<std::vector<std::string>> list() const;

 private:
  explicit Snapshotter(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace berth::images
