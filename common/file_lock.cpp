#include "common/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>

namespace berth {

Result<FileLock> FileLock::tryLock(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return failErrno(fmt::format("open {}", path.string()));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK)
      return fail(Code::kFailedPrecondition, "{} is locked by another process", path.string());
    return failErrno(fmt::format("flock {}", path.string()));
  }
  return FileLock(std::move(fd), path);
}

}  // namespace berth
