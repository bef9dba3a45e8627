#include "kubelet/volume/host_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_util.h"

namespace berth::kubelet::volume {

namespace {

// The file type at path (S_IFMT bits), 0 when nothing is there.
Result<mode_t> fileTypeAt(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return st.st_mode & S_IFMT;
  if (errno == ENOENT || errno == ENOTDIR) return mode_t{0};
  return failErrno(fmt::format("stat {}", path));
}

Status expectType(const std::string& path, mode_t actual, mode_t wanted, std::string_view what) {
  if (actual != wanted)
    return fail(Code::kFailedPrecondition, "hostPath type check failed: {} is not a {}", path,
                what);
  return {};
}

Status createFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return failErrno(fmt::format("create {}", path));
  ::close(fd);
  return {};
}

}  // namespace

Status checkHostPathType(const std::string& path, std::string_view type) {
  if (type.empty()) return {};
  mode_t actual = BERTH_TRY(fileTypeAt(path));
  if (type == "DirectoryOrCreate") {
    if (actual == 0) return makeDirs(path, 0755);
    return expectType(path, actual, S_IFDIR, "directory");
  }
  if (type == "Directory") return expectType(path, actual, S_IFDIR, "directory");
  if (type == "FileOrCreate") {
    if (actual == 0) return createFile(path);
    return expectType(path, actual, S_IFREG, "file");
  }
  if (type == "File") return expectType(path, actual, S_IFREG, "file");
  if (type == "Socket") return expectType(path, actual, S_IFSOCK, "socket file");
  if (type == "CharDevice") return expectType(path, actual, S_IFCHR, "character device");
  if (type == "BlockDevice") return expectType(path, actual, S_IFBLK, "block device");
  return fail(Code::kInvalidArgument, "{} is an invalid volume type", type);
}

}  // namespace berth::kubelet::volume
