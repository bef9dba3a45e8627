#include "runtime/foreground.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/unique_fd.h"

namespace berth::runtime {

namespace {

sigset_t forwardedSet() {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP})
    sigdelset(&set, s);
  return set;
}

// Raw mode on our terminal for the duration of the proxy, restored on every exit path.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) < 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void copyWindowSize(int from, int to) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Moves what is readable on `from` to `to`; false at EOF/EIO.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += w;
  }
  return true;
}

}  // namespace

void blockForwardedSignals() {
  sigset_t set = forwardedSet();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
}

Result<ExitStatus> superviseForeground(ChildProcess& child, int ptyMaster) {
  sigset_t set = forwardedSet();
  UniqueFd sigFd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!sigFd) return failErrno("signalfd");
  UniqueFd pidFd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0)));
  if (!pidFd) return failErrno("pidfd_open");
  std::optional<RawTerminal> raw;
  bool stdinOpen = ptyMaster >= 0;
  if (ptyMaster >= 0) {
    raw.emplace(STDIN_FILENO);
    copyWindowSize(STDIN_FILENO, ptyMaster);
  }
  bool exited = false;
  bool masterOpen = ptyMaster >= 0;
  // After the process exits, drain the pty until the slave side is closed (EIO).
  while (!exited || masterOpen) {
    pollfd fds[4] = {{exited ? -1 : pidFd.get(), POLLIN, 0},
                     {sigFd.get(), POLLIN, 0},
                     {masterOpen ? ptyMaster : -1, POLLIN, 0},
                     {stdinOpen && !exited ? STDIN_FILENO : -1, POLLIN, 0}};
    int n = ::poll(fds, 4, exited ? 100 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failErrno("poll");
    }
    if (n == 0) break;  // exited and the pty went quiet
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(sigFd.get(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH && ptyMaster >= 0)
          copyWindowSize(STDIN_FILENO, ptyMaster);
        else if (sig != SIGCHLD)
          ::kill(child.pid(), sig);
      }
    }
    if (fds[2].revents) masterOpen = pump(ptyMaster, STDOUT_FILENO);
    if (fds[3].revents) stdinOpen = pump(STDIN_FILENO, ptyMaster);
    if (fds[0].revents & POLLIN) exited = true;
  }
  return child.wait();
}

}  // namespace berth::runtime
