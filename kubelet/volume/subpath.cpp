#include "kubelet/volume/subpath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/file_util.h"
#include "common/mount.h"
#include "kubeapi/go_format.h"

namespace berth::kubelet::volume {
namespace fs = std::filesystem;

namespace {

// RESOLVE_BENEATH, not in_root.h's RESOLVE_IN_ROOT: a symlink to /etc must be refused as
// upstream refuses it, not reinterpreted as <volume>/etc.
long openBeneath(int rootFd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, rootFd, path.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);
  return fd;
}

Error subPathError(int err, std::string_view subPath, const fs::path& root) {
  if (err == EXDEV || err == ELOOP)
    return Error(Code::kInvalidArgument,
                 fmt::format("subPath {} leads out of the volume {}", kubeapi::goQuote(subPath),
                             root.string()),
                 err);
  return errnoError(err,
                    fmt::format("open subPath {} in {}", kubeapi::goQuote(subPath), root.string()));
}

}  // namespace

Status checkSubPath(std::string_view subPath) {
  if (subPath.starts_with('/'))
    return fail(Code::kInvalidArgument, "subPath {}: must be a relative path",
                kubeapi::goQuote(subPath));
  for (const auto& part : fs::path(subPath))
    if (part == "..")
      return fail(Code::kInvalidArgument, "subPath {}: must not contain '..'",
                  kubeapi::goQuote(subPath));
  return {};
}

Result<UniqueFd> openSubPath(const fs::path& volumeRoot, std::string_view subPath) {
  BERTH_TRY(checkSubPath(subPath));
  auto root = BERTH_TRY(openFd(volumeRoot, O_PATH | O_DIRECTORY));
  struct stat rootSt {};
  if (::fstat(root.get(), &rootSt) < 0)
    return failErrno(fmt::format("stat {}", volumeRoot.string()));

  // Each prefix is resolved from the root again, so a symlink in it may point anywhere inside
  // the volume, and a directory is only ever created in a parent that was resolved safely.
  fs::path prefix;
  UniqueFd parent = BERTH_TRY(openFd(volumeRoot, O_PATH | O_DIRECTORY));
  for (const auto& part : fs::path(subPath)) {
    if (part.empty() || part == ".") continue;
    prefix /= part;
    long fd = openBeneath(root.get(), prefix.string(), O_PATH);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(parent.get(), part.c_str(), rootSt.st_mode & 07777) < 0 && errno != EEXIST)
        return failErrno(
            fmt::format("create subPath {} in {}", kubeapi::goQuote(subPath), volumeRoot.string()));
      fd = openBeneath(root.get(), prefix.string(), O_PATH);
    }
    if (fd < 0) return std::unexpected(subPathError(errno, subPath, volumeRoot));
    parent = UniqueFd(static_cast<int>(fd));
  }
  return parent;
}

Status bindSubPath(int fd, const fs::path& target) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) return failErrno("stat subPath");
  BERTH_TRY(makeDirs(target.parent_path(), 0750));
  BERTH_TRY(detachAll(target.string()));
  if (S_ISDIR(st.st_mode)) {
    if (::mkdir(target.c_str(), 0750) < 0 && errno != EEXIST)
      return failErrno(fmt::format("mkdir {}", target.string()));
  } else {
    auto file = BERTH_TRY(openFd(target, O_RDONLY | O_CREAT | O_NOFOLLOW, 0640));
  }
  std::string source = fmt::format("/proc/self/fd/{}", fd);
  Mount mount = BERTH_TRY(Mount::make(source, target.string(), nullptr, MS_BIND));
  (void)mount.release();  // tearDown unmounts it from the disk state
  return {};
}

}  // namespace berth::kubelet::volume
