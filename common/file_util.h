#pragma once
// Whole-file helpers. Writes that others read are atomic: temp file, fsync, rename.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include <utility>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

[[nodiscard]] Result<std::string> readFile(const std::filesystem::path& path);
[[nodiscard]] Result<std::string> readFileAt(int dirfd, const char* name);
enum class Durability {
  kDurable,   // fsync before the rename: the new content survives a crash of the machine
  kVolatile,  // state that does not outlive a reboot anyway (tmpfs /run): the rename suffices
};
// Writes via <path>.tmp-<pid>-<n>, fsync, rename: readers see the old or the new content, never
// half.
[[nodiscard]] Status writeFileAtomic(const std::filesystem::path& path, std::string_view data,
                                     mode_t mode = 0644,
                                     Durability durability = Durability::kDurable);
// Plain write (O_WRONLY|O_TRUNC|O_CREAT).
[[nodiscard]] Status writeFile(const std::filesystem::path& path, std::string_view data,
                               mode_t mode = 0644);
// A write to an existing kernel file (cgroupfs, /proc/<pid>/uid_map): no O_CREAT, and the value
// in one write(2), since these files parse each write as a whole.
[[nodiscard]] Status writeKernelFile(const std::filesystem::path& path, std::string_view data);
// Writes all of data to fd, retrying on EINTR and short writes.
[[nodiscard]] Status writeAll(int fd, std::string_view data);
[[nodiscard]] Result<UniqueFd> openFd(const std::filesystem::path& path, int flags,
                                      mode_t mode = 0);
// A pipe as (read end, write end), both close-on-exec.
[[nodiscard]] Result<std::pair<UniqueFd, UniqueFd>> makePipe();
// mkdir -p with mode for the created directories.
[[nodiscard]] Status makeDirs(const std::filesystem::path& path, mode_t mode = 0755);
// rm -rf; a path that is already gone is success.
[[nodiscard]] Status removeAll(const std::filesystem::path& path);

}  // namespace berth
