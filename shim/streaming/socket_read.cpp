#include "shim/streaming/socket_read.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace berth::shim {

std::int64_t steadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::optional<std::size_t>> readSocketStep(int fd, char* buf, std::size_t size,
                                                  std::int64_t closeDeadlineMs) {
  int timeout = 500;  // re-check for a close asked for from another thread
  if (closeDeadlineMs != 0) {
    timeout = static_cast<int>(std::max<std::int64_t>(0, closeDeadlineMs - steadyMs()));
    if (timeout == 0) return std::size_t{0};
  }
  pollfd p{fd, POLLIN, 0};
  int rc = ::poll(&p, 1, timeout);
  if (rc < 0 && errno != EINTR) return failErrno("poll");
  if (rc <= 0) return std::nullopt;
  ssize_t n = ::read(fd, buf, size);
  if (n < 0 && errno == EINTR) return std::nullopt;
  if (n < 0) return failErrno("read");
  return static_cast<std::size_t>(n);
}

}  // namespace berth::shim
