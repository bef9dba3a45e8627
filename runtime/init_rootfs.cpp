#include "runtime/init_rootfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/init_util.h"
#include "runtime/sync_protocol.h"

namespace berth::runtime::init {

namespace {

// MS_* flags a mount already has that an unprivileged remount must keep (mount(2): EPERM when a
// remount in a user namespace would clear a locked flag).
unsigned long lockedFlags(const char* path) {
  struct statvfs st;
  if (statvfs(path, &st) != 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

int remountBind(const char* target, unsigned long flags) {
  unsigned long base = MS_BIND | MS_REMOUNT;
  if (mount(nullptr, target, nullptr, base | flags, nullptr) == 0) return 0;
  if (errno != EPERM) return -1;
  return mount(nullptr, target, nullptr, base | flags | lockedFlags(target), nullptr);
}

// Resolves the destination again after mounting, so that the fd names the new mount's root.
int reopenTarget(const InitPlan& plan, int rootFd, const char* dest) {
  int fd = openInRoot(rootFd, dest, O_PATH);
  if (fd < 0) dieWith(plan.syncFd, "reopen mount point", dest);
  return fd;
}

void mountCgroupV1(const InitPlan& plan, int rootFd, const MountStep& m, int targetFd) {
  char target[64];
  unsigned long ro = m.flags & MS_RDONLY;
  if (mount("tmpfs", procFdPath(target, sizeof target, targetFd), "tmpfs",
            (m.flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    dieWith(plan.syncFd, "mount tmpfs for cgroup on", m.destination.c_str());
  for (const CgroupBind& b : plan.cgroupBinds) {
    char dest[4096];
    snprintf(dest, sizeof dest, "%s/%s", m.destination.c_str(), b.name.c_str());
    int fd = ensureInRoot(rootFd, dest, false, 0755);
    if (fd < 0) dieWith(plan.syncFd, "create cgroup mount point", dest);
    char path[64];
    if (mount(b.hostPath.c_str(), procFdPath(path, sizeof path, fd), nullptr, MS_BIND | MS_REC,
              nullptr) < 0)
      dieWith(plan.syncFd, "bind cgroup", b.hostPath.c_str());
    close(fd);
    fd = reopenTarget(plan, rootFd, dest);
    if (remountBind(procFdPath(path, sizeof path, fd), MS_NOSUID | MS_NODEV | MS_NOEXEC | ro) < 0)
      dieWith(plan.syncFd, "remount cgroup", dest);
    close(fd);
  }
  if (ro) {
    int fd = reopenTarget(plan, rootFd, m.destination.c_str());
    if (mount(nullptr, procFdPath(target, sizeof target, fd), nullptr,
              MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
      dieWith(plan.syncFd, "remount cgroup tmpfs read-only", m.destination.c_str());
    close(fd);
  }
}

// The detached source tree of bind mount `index`, cloned by the runtime (MountStep::sourceFd).
int receiveMountTree(const InitPlan& plan, size_t index) {
  const char* dest = plan.mounts[index].destination.c_str();
  if (!syncSend(plan.syncFd, SyncType::kMountSource, static_cast<int32_t>(index)))
    dieWith(plan.syncFd, "ask the runtime for the source of the mount on", dest);
  SyncMsg msg;
  int tree = -1;
  if (!syncRecv(plan.syncFd, &msg, &tree)) {
    errno = EPIPE;
    dieWith(plan.syncFd, "receive the source of the mount on", dest);
  }
  if (msg.type != SyncType::kMountTree || tree < 0) {
    errno = EPROTO;
    dieWith(plan.syncFd, "receive the source of the mount on", dest);
  }
  return tree;
}

void mountOne(const InitPlan& plan, int rootFd, size_t index) {
  const MountStep& m = plan.mounts[index];
  bool file = m.kind == MountKind::kBind && !m.sourceIsDir;
  if (m.kind == MountKind::kProc) {
    // CVE-2019-16884: no symlink anywhere on the way to a procfs mount point.
    int probe = openInRoot(rootFd, m.destination.c_str(), O_PATH, RESOLVE_NO_SYMLINKS);
    if (probe < 0 && errno == ELOOP)
      dieWith(plan.syncFd, "proc must be mounted on ordinary directory, not at",
              m.destination.c_str());
    if (probe >= 0) close(probe);
  }
  int fd = ensureInRoot(rootFd, m.destination.c_str(), file, 0755);
  if (fd < 0) dieWith(plan.syncFd, "create mount point", m.destination.c_str());
  if (m.kind == MountKind::kProc) {
    // CVE-2019-16884: procfs goes on a real directory only, never through a symlink or onto a
    // file the image planted.
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      dieWith(plan.syncFd, "proc mount point is not a directory:", m.destination.c_str());
    }
  }
  char target[64];
  procFdPath(target, sizeof target, fd);
  int r;
  switch (m.kind) {
    case MountKind::kBind:
      if (m.sourceFd >= 0) {
        int tree = receiveMountTree(plan, index);
        r = move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        close(tree);
      } else {
        r = mount(m.source.c_str(), target, nullptr, MS_BIND | (m.recursiveBind ? MS_REC : 0),
                  nullptr);
      }
      break;
    case MountKind::kCgroup:
      if (!plan.cgroupBinds.empty()) {
        mountCgroupV1(plan, rootFd, m, fd);
        close(fd);
        return;
      }
      r = mount(m.source.c_str(), target, "cgroup2", m.flags, nullptr);
      if (r < 0 && (errno == EPERM || errno == EBUSY) && !plan.cgroupV2Path.empty()) {
        r = mount(plan.cgroupV2Path.c_str(), target, nullptr, MS_BIND | MS_REC, nullptr);
        if (r == 0) {
          close(fd);
          fd = reopenTarget(plan, rootFd, m.destination.c_str());
          r = remountBind(procFdPath(target, sizeof target, fd), m.flags);
        }
      }
      break;
    default:
      r = mount(m.source.c_str(), target, m.fstype.c_str(), m.flags,
                m.data.empty() ? nullptr : m.data.c_str());
      // Without a network (sysfs) or IPC (mqueue) namespace of its own a user namespace may not
      // mount these: bind the host's instead, as runc does.
      if (r < 0 && errno == EPERM && (m.fstype == "sysfs" || m.fstype == "mqueue")) {
        const char* host = m.fstype == "sysfs" ? "/sys" : "/dev/mqueue";
        r = mount(host, target, nullptr, MS_BIND | MS_REC, nullptr);
        if (r == 0) {
          close(fd);
          fd = reopenTarget(plan, rootFd, m.destination.c_str());
          r = remountBind(procFdPath(target, sizeof target, fd), m.flags);
        }
      }
      break;
  }
  if (r < 0) dieWith(plan.syncFd, "mount on", m.destination.c_str());
  close(fd);
  // A tree cloned in the runtime's namespace is a peer of the host's mount when that one is
  // shared (systemd hosts): made a slave like the rest of the container's mounts (the rootfs
  // propagation), so nothing mounted under it in the container shows up on the host.
  bool cloned = m.kind == MountKind::kBind && m.sourceFd >= 0;
  if (cloned || m.needsRemount || m.propagation || m.attrSet || m.attrClear) {
    fd = reopenTarget(plan, rootFd, m.destination.c_str());
    procFdPath(target, sizeof target, fd);
    if (cloned && mount(nullptr, target, nullptr, plan.rootPropagation | MS_REC, nullptr) < 0)
      dieWith(plan.syncFd, "set propagation of", m.destination.c_str());
    if (m.needsRemount && remountBind(target, m.flags) < 0)
      dieWith(plan.syncFd, "remount", m.destination.c_str());
    if (m.propagation && mount(nullptr, target, nullptr, m.propagation, nullptr) < 0)
      dieWith(plan.syncFd, "set propagation of", m.destination.c_str());
    if (m.attrSet || m.attrClear) {
      mount_attr attr{};
      attr.attr_set = m.attrSet;
      attr.attr_clr = m.attrClear;
      if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
        dieWith(plan.syncFd, "set recursive mount attributes of", m.destination.c_str());
    }
    close(fd);
  }
}

void createDevice(const InitPlan& plan, int rootFd, const DeviceNode& d) {
  char parent[4096];
  snprintf(parent, sizeof parent, "%s", d.path.c_str());
  char* slash = strrchr(parent, '/');
  const char* name = slash + 1;
  *slash = '\0';
  int dirFd = ensureInRoot(rootFd, parent[0] ? parent : "/", false, 0755);
  if (dirFd < 0) dieWith(plan.syncFd, "create device directory for", d.path.c_str());
  char dirPath[64];
  procFdPath(dirPath, sizeof dirPath, dirFd);
  int dir = open(dirPath, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(dirFd);
  if (dir < 0) dieWith(plan.syncFd, "open device directory for", d.path.c_str());
  unlinkat(dir, name, 0);  // the spec's device replaces whatever the image has there
  if (plan.userns) {
    // mknod is not allowed in a user namespace: bind the host's node onto an empty file.
    int f = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f < 0) dieWith(plan.syncFd, "create device file", d.path.c_str());
    char target[64];
    if (mount(d.path.c_str(), procFdPath(target, sizeof target, f), nullptr, MS_BIND, nullptr) < 0)
      dieWith(plan.syncFd, "bind device", d.path.c_str());
    close(f);
  } else {
    if (mknodat(dir, name, d.mode, d.dev) < 0) dieWith(plan.syncFd, "mknod", d.path.c_str());
    if (fchownat(dir, name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) < 0)
      dieWith(plan.syncFd, "chown device", d.path.c_str());
    // mknod applied the umask; the spec's fileMode is exact.
    if (fchmodat(dir, name, d.mode & 07777, 0) < 0)
      dieWith(plan.syncFd, "chmod device", d.path.c_str());
  }
  close(dir);
}

void createDevSymlinks(const InitPlan& plan, int rootFd) {
  static const char* const links[][2] = {
      {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
      {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"},
  };
  int devFd = openInRoot(rootFd, "/dev", O_DIRECTORY | O_RDONLY);
  if (devFd < 0) die(plan.syncFd, "open /dev");
  for (const auto& l : links) {
    if (strcmp(l[1], "ptmx") == 0) unlinkat(devFd, l[1], 0);
    if (symlinkat(l[0], devFd, l[1]) < 0 && errno != EEXIST)
      dieWith(plan.syncFd, "symlink /dev/", l[1]);
  }
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devFd, "core") < 0 &&
      errno != EEXIST)
    die(plan.syncFd, "symlink /dev/core");
  close(devFd);
}

void pivotRoot(const InitPlan& plan) {
  int oldRoot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newRoot = open(plan.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldRoot < 0 || newRoot < 0) die(plan.syncFd, "open root directories");
  if (fchdir(newRoot) < 0) die(plan.syncFd, "chdir to rootfs");
  // pivot_root(".", ".") stacks the old root on top of the new one; it is then detached without
  // needing a directory for it inside the rootfs.
  if (syscall(SYS_pivot_root, ".", ".") < 0) die(plan.syncFd, "pivot_root");
  if (fchdir(oldRoot) < 0) die(plan.syncFd, "chdir to old root");
  // Slave first, so the detach below does not propagate to the host's mounts.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0)
    die(plan.syncFd, "make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) die(plan.syncFd, "detach old root");
  if (chdir("/") < 0) die(plan.syncFd, "chdir /");
  close(oldRoot);
  close(newRoot);
}

void moveRoot(const InitPlan& plan) {
  for (const std::string& p : plan.noPivotDetach) {
    // Slave first so the detach does not propagate to the host.
    if (mount(nullptr, p.c_str(), nullptr, MS_SLAVE | MS_REC, nullptr) < 0 && errno == ENOENT)
      continue;
    if (umount2(p.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != EPERM)
      dieWith(plan.syncFd, "detach", p.c_str());
  }
  if (chdir(plan.rootfs.c_str()) < 0) die(plan.syncFd, "chdir to rootfs");
  if (mount(plan.rootfs.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0)
    die(plan.syncFd, "move rootfs to /");
  if (chroot(".") < 0) die(plan.syncFd, "chroot");
  if (chdir("/") < 0) die(plan.syncFd, "chdir /");
}

// No mount namespace to pivot in (runc's chroot()): the rootfs stays a path of the host's.
void chrootIntoRootfs(const InitPlan& plan) {
  if (chdir(plan.rootfs.c_str()) < 0) die(plan.syncFd, "chdir to rootfs");
  if (chroot(".") < 0) die(plan.syncFd, "chroot");
  if (chdir("/") < 0) die(plan.syncFd, "chdir /");
}

void maskPaths(const InitPlan& plan) {
  int rootFd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (const std::string& p : plan.maskedPaths) {
    int fd = openInRoot(rootFd, p.c_str(), O_PATH);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      dieWith(plan.syncFd, "open masked path", p.c_str());
    }
    struct stat st;
    if (fstat(fd, &st) < 0) dieWith(plan.syncFd, "stat masked path", p.c_str());
    char target[64];
    procFdPath(target, sizeof target, fd);
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", target, "tmpfs", MS_RDONLY, nullptr)
                                : mount("/dev/null", target, nullptr, MS_BIND, nullptr);
    if (r < 0) dieWith(plan.syncFd, "mask", p.c_str());
    close(fd);
  }
  for (const std::string& p : plan.readonlyPaths) {
    int fd = openInRoot(rootFd, p.c_str(), O_PATH);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      dieWith(plan.syncFd, "open readonly path", p.c_str());
    }
    char target[64];
    procFdPath(target, sizeof target, fd);
    if (mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) < 0)
      dieWith(plan.syncFd, "bind readonly path", p.c_str());
    close(fd);
    fd = openInRoot(rootFd, p.c_str(), O_PATH);
    if (fd < 0 || remountBind(procFdPath(target, sizeof target, fd),
                              MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC) < 0)
      dieWith(plan.syncFd, "remount read-only", p.c_str());
    close(fd);
  }
  close(rootFd);
}

}  // namespace

void setupConsole(const InitPlan& plan, bool bindConsole) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) die(plan.syncFd, "open /dev/ptmx");
  int unlock = 0;
  unsigned ptn = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0)
    die(plan.syncFd, "unlock pty");
  char slavePath[64];
  snprintf(slavePath, sizeof slavePath, "/dev/pts/%u", ptn);
  int slave = open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) dieWith(plan.syncFd, "open", slavePath);
  // The process' user owns its terminal; the group stays devpts' (gid=5, tty).
  if (fchown(slave, plan.process.uid, static_cast<gid_t>(-1)) < 0) die(plan.syncFd, "chown pty");
  if (plan.process.consoleRows || plan.process.consoleCols) {
    winsize ws{plan.process.consoleRows, plan.process.consoleCols, 0, 0};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) die(plan.syncFd, "set console size");
  }
  if (bindConsole) {
    int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) close(fd);
    if (mount(slavePath, "/dev/console", nullptr, MS_BIND, nullptr) < 0)
      die(plan.syncFd, "bind /dev/console");
  }
  // The data is the pty's name, as runc sends it (recvtty and containerd ignore it).
  if (sendWithFd(plan.consoleSocketFd, "/dev/ptmx", 9, master) < 0)
    die(plan.syncFd, "send pty master to console socket");
  close(master);
  for (int i = 0; i < 3; ++i)
    if (dup3(slave, i, 0) < 0) die(plan.syncFd, "dup pty onto stdio");
  if (ioctl(0, TIOCSCTTY, 0) < 0) die(plan.syncFd, "set controlling terminal");
  close(slave);
}

// The rootfs as a mount point of the container's mount namespace, whose mounts do not propagate
// back to the host.
void prepareRoot(const InitPlan& plan) {
  if (mount(nullptr, "/", nullptr, plan.rootPropagation, nullptr) < 0)
    die(plan.syncFd, "set propagation of /");
  if ((plan.rootPropagation & MS_SHARED) &&
      mount(nullptr, plan.rootfsParentMount.c_str(), nullptr, MS_PRIVATE, nullptr) < 0)
    dieWith(plan.syncFd, "make private", plan.rootfsParentMount.c_str());
  // pivot_root needs the rootfs to be a mount point.
  if (mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    dieWith(plan.syncFd, "bind rootfs", plan.rootfs.c_str());
}

void setupRootfs(const InitPlan& plan, void (*runtimeHooks)(const InitPlan&)) {
  // In the runtime's mount namespace the runtime made the rootfs a mount point of its own (and
  // its propagation); "/" is the host's and stays as it is.
  bool hostNamespace = plan.mountNamespace == InitPlan::MountNamespace::kHost;
  if (!hostNamespace) prepareRoot(plan);
  int rootFd = open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootFd < 0) dieWith(plan.syncFd, "open rootfs", plan.rootfs.c_str());

  // runtime-spec: "The runtime MUST mount entries in the listed order."
  for (size_t i = 0; i < plan.mounts.size(); ++i)
    mountOne(plan, rootFd, i);
  if (plan.defaultDev) {
    mode_t old = umask(0);
    for (const DeviceNode& d : plan.devices)
      createDevice(plan, rootFd, d);
    umask(old);
    createDevSymlinks(plan, rootFd);
  }
  runtimeHooks(plan);

  if (hostNamespace)
    chrootIntoRootfs(plan);
  else if (plan.noPivot)
    moveRoot(plan);
  else
    pivotRoot(plan);
  close(rootFd);

  if (plan.process.terminal) setupConsole(plan, true);
  for (const auto& s : plan.sysctls)
    if (writeString(s.procPath.c_str(), s.value.c_str()) < 0)
      dieWith(plan.syncFd, "write sysctl", s.procPath.c_str());
  maskPaths(plan);
  for (const MountStep& m : plan.mounts) {
    if (!m.deferReadonly) continue;
    if (mount(nullptr, m.destination.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | m.flags,
              m.data.empty() ? nullptr : m.data.c_str()) < 0)
      dieWith(plan.syncFd, "remount read-only", m.destination.c_str());
  }
  if (plan.readonlyRoot && remountBind("/", MS_RDONLY) < 0)
    die(plan.syncFd, "remount rootfs read-only");
}

}  // namespace berth::runtime::init
