#pragma once
// Unpacks one image layer (tar, tar+gzip, tar+zstd; libarchive detects the compression) into an
// empty directory, as an overlay lower dir: OCI whiteouts become overlay whiteouts (`.wh.x` → a
// 0/0 character device `x`, `.wh..wh..opq` → trusted.overlay.opaque=y on the directory), and
// ownership, modes, xattrs, times, device nodes, hard links, symlinks and sparse files are kept.
//
// Nothing is written outside the target: every entry is created relative to a directory fd
// reached from the target without following symlinks (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS, then O_NOFOLLOW per component). Absolute names, `..` components, a path
// through a symlink, a hard link to something outside and a whiteout naming such a path are
// refused with an error naming the entry, and so are trusted.overlay.* / user.overlay.* xattrs
// (overlayfs would obey a forged redirect or metacopy). The caller removes the half-unpacked
// directory.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::images {

struct UnpackOptions {
  // chown entries to their uid/gid and set trusted.* xattrs and device nodes (root only). Off:
  // everything belongs to the caller and device entries are refused.
  bool privileged = true;
};

struct UnpackResult {
  std::string diffId;  // sha256 of the uncompressed tar stream
  uint64_t entries = 0;
};

// A tar entry's name made relative and split: "./a/b/" -> {"a", "b"}. Absolute names and ".."
// components are refused (kPermissionDenied). The importer checks archive names with it too.
[[nodiscard]] Result<std::vector<std::string>> splitEntryPath(std::string_view name);

// Reads the layer from `blobFd` (from its current offset) and unpacks into the directory
// `targetFd`. `target` names the directory in messages.
[[nodiscard]] Result<UnpackResult> unpackLayer(int blobFd, int targetFd,
                                               const UnpackOptions& options);

}  // namespace berth::images
