#pragma once
// Allocation-free helpers shared by the container-init code (see container_init.h).

#include <cstddef>

namespace berth::runtime::init {

// Reports (errno, what) to the runtime, or on stderr once syncFd is -1, and exits with status 1.
[[noreturn]] void die(int syncFd, const char* what);
// Same with "<what> <arg>" as the text.
[[noreturn]] void dieWith(int syncFd, const char* what, const char* arg);

// openat2(rootFd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): the path is resolved as
// if rootFd were "/", so no symlink or ".." can leave the rootfs.
int openInRoot(int rootFd, const char* path, int flags, unsigned long long extraResolve = 0);
// Creates every missing directory of `path` inside rootFd and returns an O_PATH fd to it. When
// `lastIsFile`, the final component is created as an empty file instead.
int ensureInRoot(int rootFd, const char* path, bool lastIsFile, unsigned mode);
// "/proc/self/fd/<fd>" into buf.
const char* procFdPath(char* buf, size_t size, int fd);
// Writes a whole string to a file by path; returns 0 or -1 with errno.
int writeString(const char* path, const char* value);

}  // namespace berth::runtime::init
