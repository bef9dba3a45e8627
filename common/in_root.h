#pragma once
// Opening a path inside a directory tree (a container rootfs) without leaving it: openat2 with
// RESOLVE_IN_ROOT resolves ".." and absolute symlinks as if the tree's root were "/", so a
// malicious image's /etc/passwd -> /host/etc/shadow link stays inside the image.

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

// openat2(rootFd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). Errors name
// the path: "open /etc/passwd in rootfs: No such file or directory".
[[nodiscard]] Result<UniqueFd> openInRoot(int rootFd, std::string_view path, int flags);
// Reads a whole regular file opened with openInRoot; more than maxBytes is an error.
[[nodiscard]] Result<std::string> readFileInRoot(int rootFd, std::string_view path,
                                                 size_t maxBytes);

}  // namespace berth
