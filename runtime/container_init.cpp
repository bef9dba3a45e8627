#include "runtime/container_init.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/sched.h>  // clone_args, CLONE_INTO_CGROUP
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runtime/init_rootfs.h"
#include "runtime/init_util.h"
#include "runtime/sync_protocol.h"

namespace berth::runtime {

using init::die;
using init::dieWith;

namespace {

// The container's state JSON for its own hooks (createContainer, startContainer): received from
// the runtime into static storage, since the child does not allocate.
char gStateJson[1 << 20];
size_t gStateLen = 0;

void expect(const InitPlan& plan, SyncType type) {
  SyncMsg m;
  if (!syncRecv(plan.syncFd, &m)) {
    errno = EPIPE;
    die(plan.syncFd, "runtime went away");
  }
  if (m.type == SyncType::kState) {
    // Header (value = length) then the JSON as one raw message.
    ssize_t n = recv(plan.syncFd, gStateJson, sizeof gStateJson - 1, 0);
    if (n < 0 || n != m.value) die(plan.syncFd, "receive state");
    gStateLen = static_cast<size_t>(n);
    expect(plan, type);
    return;
  }
  if (m.type != type) {
    errno = EPROTO;
    die(plan.syncFd, "unexpected message from runtime");
  }
}

// Runs one hook with the state on its stdin, in the container's namespaces (runtime-spec
// createContainer and startContainer).
void runHook(const InitPlan& plan, const HookCmd& h, const char* kind, size_t index) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) die(plan.syncFd, "pipe for hook");
  pid_t pid = fork();
  if (pid < 0) die(plan.syncFd, "fork hook");
  if (pid == 0) {
    dup3(in[0], 0, 0);
    execve(h.path.c_str(), h.argv.data(), const_cast<char**>(h.envp.data()));
    _exit(127);
  }
  close(in[0]);
  signal(SIGPIPE, SIG_IGN);
  [[maybe_unused]] ssize_t w = write(in[1], gStateJson, gStateLen);
  close(in[1]);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (h.timeoutSeconds > 0 && pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int r;
    do {
      r = poll(&p, 1, h.timeoutSeconds * 1000);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      errno = ETIMEDOUT;
      dieWith(plan.syncFd, "hook timed out:", h.path.c_str());
    }
  }
  if (pidfd >= 0) close(pidfd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;  // not a system call failure: the text says it all
    // runc's wording (Go's for the status): "error running hook ...: signal: bad system call".
    char how[128];
    if (WIFSIGNALED(status)) {
      const char* d = sigdescr_np(WTERMSIG(status));
      snprintf(how, sizeof how, "signal: %s", d ? d : "unknown signal");
      how[8] = static_cast<char>(tolower(static_cast<unsigned char>(how[8])));
    } else {
      snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s hook #%zu: error running hook %s: %s", kind, index,
             h.path.c_str(), how);
    die(plan.syncFd, buf);
  }
}

// Called by setupRootfs once the mounts are in place, before pivot_root.
void rootfsReady(const InitPlan& plan) {
  // The runtime runs prestart and createRuntime hooks in its own namespaces, now.
  if (plan.runtimeHooks) {
    syncSend(plan.syncFd, SyncType::kRunHooks, 0);
    expect(plan, SyncType::kHooksDone);
  }
  // createContainer hooks run from the container's root, as runc's do.
  if (chdir(plan.rootfs.c_str()) < 0) dieWith(plan.syncFd, "chdir to", plan.rootfs.c_str());
  for (size_t i = 0; i < plan.createContainerHooks.size(); ++i)
    runHook(plan, plan.createContainerHooks[i], "createContainer", i);
}

// Finds the executable like execvp, with the container's PATH, before the runtime reports
// success: a missing binary fails `create`, not the later `start`.
const char* resolveExecutable(const InitPlan& plan, char* buf, size_t size) {
  const char* name = plan.process.argv[0];
  if (strchr(name, '/')) {
    if (access(name, X_OK) < 0) dieWith(plan.syncFd, "exec: cannot run", name);
    return name;
  }
  const char* p = plan.process.path.c_str();
  while (*p) {
    const char* end = strchrnul(p, ':');
    size_t dirLen = static_cast<size_t>(end - p);
    snprintf(buf, size, "%.*s/%s", static_cast<int>(dirLen), dirLen ? p : ".", name);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    p = *end ? end + 1 : end;
  }
  errno = ENOENT;
  dieWith(plan.syncFd, "exec: executable file not found in $PATH:", name);
}

// A session keyring of the container's own (runc's default, --no-new-keyring skips it), so keys
// of the caller's session are not reachable; searchable by the container's user.
constexpr unsigned kKeyUserSearch = 0x00080000;  // KEY_USR_SEARCH in keyutils.h

void joinSessionKeyring(const InitPlan& plan) {
  if (plan.sessionKeyring.empty()) return;
  long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan.sessionKeyring.c_str());
  if (id < 0) {
    if (errno == ENOSYS) return;  // no keyrings in this kernel: best effort, as runc
    die(plan.syncFd, "join session keyring");
  }
  char desc[512];
  long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc - 1);
  if (n < 0) die(plan.syncFd, "describe session keyring");
  desc[n < static_cast<long>(sizeof desc) ? n : sizeof desc - 1] = '\0';
  // "type;uid;gid;perm;description", perm in hex.
  unsigned perm = 0;
  const char* p = desc;
  for (int field = 0; field < 3 && p; ++field) {
    p = strchr(p, ';');
    if (p) ++p;
  }
  if (!p || sscanf(p, "%x", &perm) != 1) {
    errno = EINVAL;
    die(plan.syncFd, "parse session keyring permissions");
  }
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm | kKeyUserSearch) < 0)
    die(plan.syncFd, "set session keyring permissions");
}

void applyCredentials(const InitPlan& plan) {
  const ProcessPlan& p = plan.process;
  for (int cap : p.boundingDrop)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
      die(plan.syncFd, "drop capability from bounding set");
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die(plan.syncFd, "keep capabilities");
  if (setgroups(p.additionalGids.size(), p.additionalGids.data()) < 0 && errno != EPERM)
    die(plan.syncFd, "setgroups");
  if (setresgid(p.gid, p.gid, p.gid) < 0) die(plan.syncFd, "setgid");
  if (setresuid(p.uid, p.uid, p.uid) < 0) die(plan.syncFd, "setuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) die(plan.syncFd, "clear keep capabilities");
  if (p.setCapabilities) {
    if (cap_set_proc(p.caps.get()) < 0) die(plan.syncFd, "set capabilities");
    // A cap missing from permitted or inheritable can't be ambient (EPERM); runc ignores those
    // failures, and so do we: runc's own default spec asks for ambient caps it can't raise.
    for (int cap : p.ambientRaise)
      prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
  }
}

void checkWorkingDirectory(const InitPlan& plan, bool alreadyThere) {
  if (!alreadyThere && chdir(plan.process.cwd.c_str()) < 0)
    dieWith(plan.syncFd, "chdir to cwd", plan.process.cwd.c_str());
  // CVE-2024-21626: a cwd reached through a leaked host fd would read "(unreachable)/...".
  char buf[4096];
  if (!getcwd(buf, sizeof buf) || buf[0] != '/') {
    errno = ENOENT;
    dieWith(plan.syncFd, "cwd is outside the container:", plan.process.cwd.c_str());
  }
}

// Only stdio and the preserved fds survive exec; the runtime's own fds are all O_CLOEXEC and this
// catches anything inherited from the caller.
void closeLeakedFds(const InitPlan& plan) {
  unsigned first = 3 + static_cast<unsigned>(plan.process.preservedFds);
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
    die(plan.syncFd, "mark fds close-on-exec");
  for (unsigned fd = 3; fd < first; ++fd) {
    int flags = fcntl(static_cast<int>(fd), F_GETFD);
    if (flags >= 0) fcntl(static_cast<int>(fd), F_SETFD, flags & ~FD_CLOEXEC);
  }
}

// Installs linux.seccomp (the program was compiled by the runtime). A listener (SCMP_ACT_NOTIFY)
// goes to the runtime, which hands it to the seccomp agent; the process waits for that, since a
// notified syscall would otherwise block with nobody to answer it (runc's syncParentSeccomp).
void loadSeccomp(InitPlan& plan) {
  const SeccompProgram& s = plan.seccomp;
  if (!s.enabled) return;
  long fd;
  if (s.flags == 0)
    fd = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &s.fprog, 0, 0);
  else
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s.flags, &s.fprog);
  if (fd < 0) die(plan.syncFd, "load seccomp filter");
  if (!s.hasListener()) return;
  if (!syncSendFd(plan.syncFd, SyncType::kSeccompListener, static_cast<int>(fd)))
    die(plan.syncFd, "send seccomp listener to the runtime");
  expect(plan, SyncType::kSeccompDone);
  close(static_cast<int>(fd));
}

// Blocks until `start` opens the fifo for reading (runc's exec.fifo handshake). The write end
// stays open, close-on-exec: `start` reads to EOF, so it returns (and runs poststart hooks) only
// once startContainer hooks have run and the process is exec'd.
void waitForStart(const InitPlan& plan) {
  char path[64];
  int fd = open(init::procFdPath(path, sizeof path, plan.execFifoFd), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    perror("berth-runtime: open exec fifo");
    _exit(1);
  }
  if (write(fd, "0", 1) != 1) {
    perror("berth-runtime: write exec fifo");
    _exit(1);
  }
  close(plan.execFifoFd);
}

[[noreturn]] void containerMain(InitPlan& plan, bool bornInCgroup) {
  if (plan.runtimeSyncFd >= 0) close(plan.runtimeSyncFd);
  // The runtime blocks the signals it forwards; the container starts with none blocked.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (mustWaitForGo(plan, bornInCgroup)) expect(plan, SyncType::kGo);
  // Into the v1 cgroups before anything else (and before the cgroup namespace is unshared, so
  // its root is the container's cgroup). "0" moves this thread, the only one.
  for (const auto& t : plan.ns.cgroupTasks) {
    if (write(t.fd, "0", 1) != 1) dieWith(plan.syncFd, "join cgroup", t.path.c_str());
    close(t.fd);
  }
  // In its cgroups now (born there, moved by itself or by the runtime before the go): a cgroup
  // namespace to join has them at its root.
  if (plan.ns.joinCgroupNsFd >= 0) {
    if (setns(plan.ns.joinCgroupNsFd, CLONE_NEWCGROUP) < 0)
      die(plan.syncFd, "join cgroup namespace");
    close(plan.ns.joinCgroupNsFd);
  }
  if (plan.userns) {
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
      die(plan.syncFd, "become root in the user namespace");
  }
  if (plan.ns.unshareCgroup && unshare(CLONE_NEWCGROUP) < 0)
    die(plan.syncFd, "unshare cgroup namespace");
  if (setsid() < 0 && !plan.isExec) die(plan.syncFd, "setsid");
  joinSessionKeyring(plan);

  if (plan.isExec) {
    // Before the console: /dev/ptmx must be the container's.
    if (plan.execRootFd >= 0 && (fchdir(plan.execRootFd) < 0 || chroot(".") < 0))
      die(plan.syncFd, "chroot into the container's root");
    if (plan.process.terminal) init::setupConsole(plan, false);
  } else {
    init::setupRootfs(plan, rootfsReady);
  }
  if (plan.setHostname && sethostname(plan.hostname.data(), plan.hostname.size()) < 0)
    die(plan.syncFd, "sethostname");
  if (plan.setDomainname && setdomainname(plan.domainname.data(), plan.domainname.size()) < 0)
    die(plan.syncFd, "setdomainname");
  for (const auto& l : plan.process.rlimits)
    if (setrlimit(static_cast<__rlimit_resource>(l.resource), &l.value) < 0)
      die(plan.syncFd, "setrlimit");
  umask(plan.process.umask);

  char exe[4096];
  const char* path = resolveExecutable(plan, exe, sizeof exe);
  bool nnp = plan.process.noNewPrivileges;
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(plan.syncFd, "set no_new_privs");
  // Before the filter, which need not allow close_range.
  closeLeakedFds(plan);
  // runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN, so before the
  // credentials change; with it, as late as possible, so the profile has fewer syscalls to allow.
  if (!nnp) loadSeccomp(plan);
  // Change directory before dropping root when possible (cwd may be reachable only as root), and
  // after it when root may not enter it (root_squash, as runc does).
  bool early = chdir(plan.process.cwd.c_str()) == 0;
  if (!early && errno != EACCES && errno != EPERM)
    dieWith(plan.syncFd, "chdir to cwd", plan.process.cwd.c_str());
  for (const auto& a : plan.process.lsmAttrs)
    if (init::writeString(a.file.c_str(), a.value.c_str()) < 0)
      dieWith(plan.syncFd, "set LSM label through", a.file.c_str());
  applyCredentials(plan);
  checkWorkingDirectory(plan, early);
  if (nnp) loadSeccomp(plan);

  syncSend(plan.syncFd, SyncType::kReady, 0);
  if (!plan.isExec && plan.execFifoFd < 0) {
    // `run`: released over the sync socket, which stays open (close-on-exec), so that its EOF
    // tells the runtime the process is executed.
    expect(plan, SyncType::kStart);
  } else {
    close(plan.syncFd);
  }
  // From here on failures belong to the container: die() reports on its stderr.
  plan.syncFd = -1;
  if (!plan.isExec) {
    if (plan.execFifoFd >= 0) waitForStart(plan);
    for (size_t i = 0; i < plan.startContainerHooks.size(); ++i)
      runHook(plan, plan.startContainerHooks[i], "startContainer", i);
  }
  execve(path, plan.process.argv.data(), plan.process.envp.data());
  fprintf(stderr, "berth-runtime: exec %s: %s\n", path, strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

// Clones the container process with the plan's namespaces: from the intermediate as a `sibling`
// (CLONE_PARENT, so it is the runtime's child), or from the runtime itself. Runs containerMain in
// the child; returns its pid, or -1 with errno.
long cloneChild(InitPlan& plan, bool sibling, bool* placed) {
  uint64_t flags = static_cast<uint64_t>(plan.ns.cloneFlags) | (sibling ? CLONE_PARENT : 0);
  long pid = -1;
  *placed = false;
  if (plan.ns.cgroupFd >= 0) {
    // Born in its cgroup: no moment in the runtime's cgroup, no charge to it, no later move.
    // With CLONE_PARENT the kernel takes the exit signal from the intermediate: 0 here.
    clone_args args{};
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = sibling ? 0 : SIGCHLD;
    args.cgroup = static_cast<uint64_t>(plan.ns.cgroupFd);
    pid = syscall(SYS_clone3, &args, sizeof args);
    *placed = pid >= 0;
    // Older kernels (ENOSYS, E2BIG) or cgroups that refuse it: the runtime moves the child.
    if (pid < 0 && errno != ENOSYS && errno != E2BIG && errno != EINVAL && errno != EOPNOTSUPP &&
        errno != EBUSY)
      return -1;
  }
  if (pid == 0) containerMain(plan, true);
  if (pid < 0) pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) containerMain(plan, false);
  return pid;
}

}  // namespace

void runIntermediate(InitPlan& plan) {
  // CVE-2019-5736: until the user process execs, this process and the container process are
  // the runtime's binary. Not dumpable, their /proc/<pid>/exe (and mem, fds) can't be opened
  // by processes in the container, so the host binary can't be reached or rewritten through it.
  // execve makes the user process dumpable again.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) die(plan.syncFd, "make the runtime not dumpable");
  // Open every namespace first: once the mount namespace is joined, /proc/<pid>/ns paths name
  // another procfs.
  int fds[16];
  size_t count = plan.ns.joins.size() < 16 ? plan.ns.joins.size() : 16;
  for (size_t i = 0; i < count; ++i) {
    fds[i] = open(plan.ns.joins[i].path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) dieWith(plan.syncFd, "open namespace", plan.ns.joins[i].path.c_str());
  }
  // Everything but the user namespace first, while we still hold the host's capabilities; then
  // the user namespace, which makes the namespaces cloned below belong to it.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < count; ++i) {
      const auto& j = plan.ns.joins[i];
      if ((j.type == CLONE_NEWUSER) != (pass == 1)) continue;
      if (j.type == CLONE_NEWCGROUP) {
        plan.ns.joinCgroupNsFd = fds[i];  // the child joins it (see containerMain)
        continue;
      }
      if (setns(fds[i], j.type) < 0) dieWith(plan.syncFd, "join namespace", j.path.c_str());
      close(fds[i]);
    }
  }
  if (plan.ns.newTime) {
    if (unshare(CLONE_NEWTIME) < 0) die(plan.syncFd, "unshare time namespace");
    // Offsets can be set only before a process enters the namespace: the clone below is first.
    if (!plan.ns.timeOffsets.empty() &&
        init::writeString("/proc/self/timens_offsets", plan.ns.timeOffsets.c_str()) < 0)
      die(plan.syncFd, "write timens_offsets");
  }
  bool placed = false;
  long pid = cloneChild(plan, true, &placed);
  if (pid < 0) die(plan.syncFd, "clone container process");
  syncSend(plan.syncFd, SyncType::kPid, static_cast<int32_t>(pid), placed ? "placed" : nullptr);
  _exit(0);
}

bool mustWaitForGo(const InitPlan& plan, bool bornInCgroup) {
  return plan.waitForGo || (plan.ns.cgroupFd >= 0 && !bornInCgroup);
}

bool needsIntermediate(const InitPlan& plan) {
  return !plan.ns.joins.empty() || plan.ns.newTime;
}

long cloneContainer(InitPlan& plan, bool* placed) {
  // CVE-2019-5736 (see runIntermediate): the child is born not dumpable; we are as before after.
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  if (dumpable < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return -1;
  long pid = cloneChild(plan, false, placed);
  int err = errno;
  prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
  errno = err;
  return pid;
}

}  // namespace berth::runtime
