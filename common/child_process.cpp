#include "common/child_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace berth {

ExitStatus ExitStatus::fromWaitStatus(int status) {
  if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), WTERMSIG(status)};
  return {WEXITSTATUS(status), 0};
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    killAndReap();
    pid_ = o.release();
  }
  return *this;
}

Result<ExitStatus> ChildProcess::wait() {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &status, 0);
    if (r == pid_) break;
    if (r < 0 && errno == EINTR) continue;
    return failErrno(fmt::format("wait for pid {}", pid_));
  }
  pid_ = -1;
  return ExitStatus::fromWaitStatus(status);
}

Result<std::optional<ExitStatus>> ChildProcess::waitFor(std::chrono::milliseconds timeout) {
  // A pidfd turns "wait with a timeout" into poll(2), with no SIGCHLD handler or sleep loop.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd < 0) return failErrno(fmt::format("pidfd_open {}", pid_));
  UniqueFd owner(pidfd);
  pollfd p{pidfd, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return failErrno("poll pidfd");
  if (n == 0) return std::optional<ExitStatus>{};
  return BERTH_TRY(wait());
}

void ChildProcess::killAndReap() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace berth
