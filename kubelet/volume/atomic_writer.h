#pragma once
// AtomicWriter projects a set of files into a volume directory so that a reader sees either the
// old set or the new one, never a mix (upstream pkg/volume/util/atomic_writer.go, which
// configMap, secret, downwardAPI and projected volumes share):
//
//   <volume dir>/
//   ├── ..2026_12_07_19_44_01.123456789/   the current payload, real files (0755 dir)
//   │   ├── key
//   │   └── sub/file
//   ├── ..data -> ..2026_12_07_19_44_01.123456789   switched by renaming ..data_tmp over it
//   ├── key -> ..data/key                  one symlink per top-level payload entry
//   └── sub -> ..data/sub
//
// Names starting with ".." are the writer's own. Not thread-safe: one writer per directory at a
// time (the pod worker).

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::kubelet::volume {

struct FileProjection {
  std::string data;
  mode_t mode = 0644;
  std::optional<uid_t> fsUser;  // chown the file to this user (a projected token's FsUser)
  bool operator==(const FileProjection&) const = default;
};
// Payload path (relative, may contain '/') -> content.
using Payload = std::map<std::string, FileProjection>;

// A payload path must be relative, not contain a ".." element, not start with "..", and fit
// the kernel's limits (upstream validatePath, same messages).
[[nodiscard]] Status validatePayloadPath(std::string_view path);

class AtomicWriter {
 public:
  // Applied to the new timestamped directory before it goes live (the fsGroup ownership walk).
  using SetPerms = std::function<Status(const std::filesystem::path& tsDir)>;

  // The target directory must exist.
  [[nodiscard]] static Result<AtomicWriter> open(std::filesystem::path targetDir);

  // Projects payload; returns whether a new version went live (false: the files on disk
  // already had the payload's content, nothing was written). As upstream, only content is
  // compared, not modes: the fsGroup walk adds group bits, so modes on disk differ from the
  // payload's by design.
  [[nodiscard]] Result<bool> write(const Payload& payload, const SetPerms& setPerms = {});

  const std::filesystem::path& targetDir() const { return targetDir_; }

 private:
  explicit AtomicWriter(std::filesystem::path targetDir) : targetDir_(std::move(targetDir)) {}
  std::filesystem::path targetDir_;
};

}  // namespace berth::kubelet::volume
