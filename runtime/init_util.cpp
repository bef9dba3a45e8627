#include "runtime/init_util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/sync_protocol.h"

namespace berth::runtime::init {

void die(int syncFd, const char* what) {
  int err = errno;
  if (syncFd >= 0)
    syncSend(syncFd, SyncType::kError, err, what);
  else if (err == 0)
    fprintf(stderr, "berth-runtime: %s\n", what);
  else
    fprintf(stderr, "berth-runtime: %s: %s\n", what, strerror(err));
  _exit(1);
}

void dieWith(int syncFd, const char* what, const char* arg) {
  int err = errno;
  char buf[2048];
  snprintf(buf, sizeof buf, "%s %s", what, arg);
  errno = err;
  die(syncFd, buf);
}

int openInRoot(int rootFd, const char* path, int flags, unsigned long long extraResolve) {
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extraResolve;
  long fd;
  do {
    fd = syscall(SYS_openat2, rootFd, path, &how, sizeof how);
  } while (fd < 0 && errno == EAGAIN);  // EAGAIN: a rename raced the lookup, retry
  return static_cast<int>(fd);
}

int ensureInRoot(int rootFd, const char* path, bool lastIsFile, unsigned mode) {
  char buf[4096];
  size_t len = strnlen(path, sizeof buf);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len + 1);
  int fd = openInRoot(rootFd, buf, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;

  // Walk the prefixes: open each, create what is missing relative to its parent's fd.
  for (size_t i = 1; i <= len; ++i) {
    if (i < len && buf[i] != '/') continue;
    if (buf[i - 1] == '/') continue;
    bool last = i == len;
    char saved = buf[i];
    buf[i] = '\0';
    int cur = openInRoot(rootFd, buf, O_PATH);
    if (cur < 0 && errno == ENOENT) {
      char* slash = strrchr(buf, '/');
      const char* name = slash ? slash + 1 : buf;
      int parent;
      if (slash && slash != buf) {
        *slash = '\0';
        parent = openInRoot(rootFd, buf, O_PATH | O_DIRECTORY);
        *slash = '/';
      } else {
        parent = openInRoot(rootFd, "/", O_PATH | O_DIRECTORY);
      }
      if (parent < 0) return -1;
      int r;
      if (last && lastIsFile) {
        r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(parent, name, last ? mode : 0755);
      }
      int err = errno;
      close(parent);
      if (r < 0 && err != EEXIST) {
        errno = err;
        return -1;
      }
      // Reopen through the root: a component that appeared meanwhile (or is a symlink) is
      // resolved inside the rootfs again.
      cur = openInRoot(rootFd, buf, O_PATH);
    }
    buf[i] = saved;
    if (cur < 0) return -1;
    if (last) return cur;
    close(cur);
  }
  errno = ENOENT;
  return -1;
}

const char* procFdPath(char* buf, size_t size, int fd) {
  snprintf(buf, size, "/proc/self/fd/%d", fd);
  return buf;
}

int writeString(const char* path, const char* value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(value);
  ssize_t n = write(fd, value, len);
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(len)) {
    errno = n < 0 ? err : EIO;
    return -1;
  }
  return 0;
}

}  // namespace berth::runtime::init
