#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace berth {

Result<UniqueFd> connectUnix(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& p = path.native();
  if (p.size() >= sizeof(addr.sun_path)) {
    return fail(Code::kInvalidArgument, "socket path {} is longer than {} bytes", p,
                sizeof(addr.sun_path) - 1);
  }
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return failErrno("socket");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return failErrno(fmt::format("connect {}", p));
  return fd;
}

Result<FileLock> FileLock::tryLock(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return failErrno(fmt::format("open {}", path.string()));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK) {
      return fail(Code::kFailedPrecondition, "{} is locked by another process", path.string());
    }
    return failErrno(fmt::format("flock {}", path.string()));
  }
  return FileLock(std::move(fd), path);
}

}  // namespace berth
