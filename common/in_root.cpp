#include "common/in_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace berth {

Result<UniqueFd> openInRoot(int rootFd, std::string_view path, int flags) {
  std::string p(path);
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, rootFd, p.c_str(), &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);  // a concurrent rename raced the lookup
  if (fd < 0) return failErrno(fmt::format("open {} in rootfs", path));
  return UniqueFd(static_cast<int>(fd));
}

Result<std::string> readFileInRoot(int rootFd, std::string_view path, size_t maxBytes) {
  UniqueFd fd = BERTH_TRY(openInRoot(rootFd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return failErrno(fmt::format("stat {} in rootfs", path));
  // A FIFO or device planted at /etc/passwd would block or never end.
  if (!S_ISREG(st.st_mode))
    return fail(Code::kInvalidArgument, "{} in rootfs: not a regular file", path);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failErrno(fmt::format("read {} in rootfs", path));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > maxBytes)
      return fail(Code::kInvalidArgument, "{} in rootfs: larger than {} bytes", path, maxBytes);
  }
  return out;
}

}  // namespace berth
