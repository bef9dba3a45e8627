#pragma once
// Messages between the runtime and the processes it forks, over a SOCK_SEQPACKET socketpair (one
// message per send, boundaries kept). Fixed-size and allocation-free so the child can use them.

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace berth::runtime {

enum class SyncType : uint32_t {
  kPid = 1,        // intermediate → runtime: value = pid of the container process
  kGo = 2,         // runtime → child: id maps written, cgroup joined; start setting up
  kRunHooks = 3,   // child → runtime: rootfs mounted, run prestart/createRuntime hooks
  kHooksDone = 4,  // runtime → child
  kReady = 5,      // child → runtime: set up; about to wait on exec.fifo (or to exec)
  kError = 6,      // child → runtime: value = errno, text = what failed
  kState = 7,      // runtime → child: text = state JSON for the container's own hooks
  // child → runtime: the seccomp filter is loaded; its listener fd comes with SCM_RIGHTS.
  kSeccompListener = 8,
  kSeccompDone = 9,  // runtime → child: the listener reached the seccomp agent
  // child → runtime: value = index in plan.mounts of a bind mount it is about to attach; the
  // runtime answers kMountTree with a detached clone of its source (SCM_RIGHTS).
  kMountSource = 10,
  kMountTree = 11,
  // runtime → child, `run` only (no exec.fifo): go on to exec. The child keeps its end open
  // (close-on-exec), so the runtime's EOF says it is executed.
  kStart = 12,
};

struct SyncMsg {
  SyncType type;
  int32_t value;
  uint32_t length;  // of text, including the terminating NUL
  char text[4096];
};

// Sends a message with text (truncated to fit). Returns false on failure.
inline bool syncSend(int fd, SyncType type, int32_t value, const char* text = nullptr) {
  SyncMsg m;
  m.type = type;
  m.value = value;
  size_t n = text ? strnlen(text, sizeof m.text - 1) : 0;
  if (n) memcpy(m.text, text, n);
  m.text[n] = '\0';
  m.length = static_cast<uint32_t>(n + 1);
  size_t size = offsetof(SyncMsg, text) + m.length;
  ssize_t r;
  do {
    r = send(fd, &m, size, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r == static_cast<ssize_t>(size);
}

// Sends `len` bytes with one file descriptor attached (SCM_RIGHTS), allocation-free: the one
// way fds leave a process here (sync messages, the console socket, the seccomp agent). Returns
// the bytes sent, or -1 with errno.
inline ssize_t sendWithFd(int sock, const void* data, size_t len, int passFd) {
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &passFd, sizeof(int));
  ssize_t r;
  do {
    r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r;
}

// Sends a message (no text) with one file descriptor attached.
inline bool syncSendFd(int fd, SyncType type, int passFd) {
  SyncMsg m;
  m.type = type;
  m.value = 0;
  m.length = 1;
  m.text[0] = '\0';
  size_t size = offsetof(SyncMsg, text) + 1;
  return sendWithFd(fd, &m, size, passFd) == static_cast<ssize_t>(size);
}

// Receives one message; false on EOF or error (the peer died). With `passedFd`, a file descriptor
// sent along (close-on-exec) is stored there, else -1; without it, one is discarded by the kernel.
inline bool syncRecv(int fd, SyncMsg* m, int* passedFd = nullptr) {
  iovec iov{m, sizeof *m};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (passedFd) {
    *passedFd = -1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  ssize_t r;
  do {
    r = passedFd ? recvmsg(fd, &msg, MSG_CMSG_CLOEXEC) : recv(fd, m, sizeof *m, 0);
  } while (r < 0 && errno == EINTR);
  if (passedFd && r >= 0) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(passedFd, CMSG_DATA(c), sizeof(int));
  }
  if (r < static_cast<ssize_t>(offsetof(SyncMsg, text))) {
    if (passedFd && *passedFd >= 0) close(*passedFd);
    if (passedFd) *passedFd = -1;
    return false;
  }
  size_t textLen = static_cast<size_t>(r) - offsetof(SyncMsg, text);
  if (textLen == 0)
    m->text[0] = '\0';
  else
    m->text[textLen - 1 < sizeof m->text ? textLen - 1 : sizeof m->text - 1] = '\0';
  return true;
}

}  // namespace berth::runtime
