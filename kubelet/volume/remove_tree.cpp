#include "kubelet/volume/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/unique_fd.h"

namespace berth::kubelet::volume {
namespace fs = std::filesystem;

namespace {

Status removeAt(int parentFd, const std::string& name, const fs::path& shown) {
  struct statx stx {};
  if (::statx(parentFd, name.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0) {
    if (errno == ENOENT) return {};
    return failErrno(fmt::format("stat {}", shown.string()));
  }
  if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
      (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    return fail(Code::kFailedPrecondition, "remove {}: still a mount point", shown.string());
  if (!S_ISDIR(stx.stx_mode)) {
    if (::unlinkat(parentFd, name.c_str(), 0) < 0 && errno != ENOENT)
      return failErrno(fmt::format("remove {}", shown.string()));
    return {};
  }
  int fd = ::openat(parentFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return failErrno(fmt::format("open {}", shown.string()));
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return failErrno(fmt::format("open {}", shown.string()));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  Status st;
  for (const auto& n : names) {
    st = removeAt(::dirfd(dir), n, shown / n);
    if (!st) break;
  }
  ::closedir(dir);
  if (!st) return st;
  if (::unlinkat(parentFd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT)
    return failErrno(fmt::format("remove {}", shown.string()));
  return {};
}

}  // namespace

Status removeTreeOneFilesystem(const fs::path& path) {
  fs::path abs = path.lexically_normal();
  if (!abs.has_filename()) abs = abs.parent_path();
  fs::path parent = abs.has_parent_path() ? abs.parent_path() : fs::path(".");
  int fd = ::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return {};
    return failErrno(fmt::format("open {}", parent.string()));
  }
  UniqueFd parentFd(fd);
  return removeAt(parentFd.get(), abs.filename().string(), path);
}

}  // namespace berth::kubelet::volume
