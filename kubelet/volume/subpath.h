#pragma once
// volumeMounts[].subPath: a path inside a volume that a container's process may have replaced
// with a symlink to anywhere on the node (CVE-2017-1002101). It is opened from the volume's
// root without leaving it, then pinned by bind-mounting the opened fd under
// pods/<uid>/volume-subpaths/ (paths.h), and that mount is what the CRI gets (upstream
// pkg/volume/util/subpath/subpath_linux.go does the same).

#include <filesystem>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::kubelet::volume {

// A subPath as the API allows it: relative, no ".." element.
[[nodiscard]] Status checkSubPath(std::string_view subPath);

// Opens subPath (O_PATH) under volumeRoot with openat2 RESOLVE_BENEATH: symlinks that stay
// inside the volume are followed, one that leads out (absolute, or ".." past the root) is an
// error naming the subPath. Missing directories are created with the volume root's mode, as
// the kubelet's SafeMakeDir does.
[[nodiscard]] Result<UniqueFd> openSubPath(const std::filesystem::path& volumeRoot,
                                           std::string_view subPath);

// Bind-mounts the opened path on target (created as a directory or an empty file to match),
// replacing a mount already there.
[[nodiscard]] Status bindSubPath(int fd, const std::filesystem::path& target);

}  // namespace berth::kubelet::volume
