#pragma once
// Everything the container's init (or an exec'd process) needs between clone and exec, computed
// by the runtime before it forks. The child only walks these structures: it never allocates, logs
// or throws (STYLE: "the code between clone and exec").

#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "common/unique_fd.h"
#include "runtime/seccomp.h"

namespace berth::runtime {

enum class MountKind {
  kBind,     // bind or rbind of a host path
  kProc,     // procfs: target must be a real directory
  kCgroup,   // "cgroup" type: cgroup2 or a tmpfs of v1 hierarchy binds (see cgroupBinds)
  kGeneric,  // any other filesystem (tmpfs, sysfs, devpts, mqueue, ...)
};

struct MountStep {
  MountKind kind = MountKind::kGeneric;
  std::string source;
  std::string destination;  // inside the rootfs, absolute
  std::string fstype;
  std::string data;               // options the kernel parses (mode=755, size=...)
  unsigned long flags = 0;        // MS_* applied at mount time
  unsigned long propagation = 0;  // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (+MS_REC)
  bool recursiveBind = false;
  bool sourceIsDir = true;  // bind of a file needs a file as mount point
  // Bind mounts ignore most flags on the first mount(2): they take a MS_REMOUNT afterwards.
  bool needsRemount = false;
  // A read-only tmpfs is mounted writable and made read-only once everything under it is in
  // place (a read-only /dev still needs its device nodes and /dev/pts mount point).
  bool deferReadonly = false;
  unsigned long long attrSet = 0, attrClear = 0;  // recursive attributes (mount_setattr)
  // Bind source, opened (O_PATH) by the runtime when it validated the config. The init asks the
  // runtime for a detached clone of it (kMountSource) when its turn comes, so the mount is
  // created in the listed order (mountinfo lists mounts by creation) and from the runtime's
  // mount namespace, where the source is reachable even from a user namespace.
  int sourceFd = -1;
};

// One v1 hierarchy bound under /sys/fs/cgroup/<name> when a "cgroup" mount is requested on a
// v1/hybrid host.
struct CgroupBind {
  std::string hostPath;  // the container's cgroup directory in that hierarchy
  std::string name;      // cpu,cpuacct / memory / ...
};

struct DeviceNode {
  std::string path;  // absolute inside the container
  mode_t mode = 0;   // S_IFCHR/S_IFBLK/S_IFIFO | permission bits
  dev_t dev = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

struct HookCmd {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // into args, null-terminated
  std::vector<char*> envp;
  int timeoutSeconds = 0;  // 0: none
};

struct CapFree {
  void operator()(cap_t c) const { cap_free(c); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

struct ProcessPlan {
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;  // pointers into args/env, null-terminated
  std::vector<char*> envp;
  std::string path;  // PATH value from env, searched when args[0] has no '/'
  std::string cwd;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additionalGids;
  mode_t umask = 022;
  bool noNewPrivileges = false;
  bool terminal = false;
  unsigned short consoleRows = 0, consoleCols = 0;
  bool setCapabilities = false;
  CapPtr caps;                    // effective/permitted/inheritable, built with libcap
  std::vector<int> boundingDrop;  // capabilities to drop from the bounding set
  std::vector<int> ambientRaise;
  struct Limit {
    int resource;
    rlimit value;
  };
  std::vector<Limit> rlimits;
  bool setOomScoreAdj = false;
  char oomScoreAdj[16] = {};  // decimal text written to /proc/self/oom_score_adj
  // LSM labels for the exec'd process: (file under /proc/thread-self/attr, text), empty if none.
  struct LsmAttr {
    std::string file;
    std::string value;
  };
  std::vector<LsmAttr> lsmAttrs;
  int preservedFds = 0;  // fds 3..3+preservedFds-1 stay open across exec (LISTEN_FDS too)
};

// Which namespaces to create (clone flags) and which to join (fds opened by the parent).
struct NamespacePlan {
  int cloneFlags = 0;  // CLONE_NEW* created with the child (CLONE_NEWCGROUP is unshared later)
  // cgroup v2: the container's cgroup directory; the child is born in it (clone3 with
  // CLONE_INTO_CGROUP) where the kernel has that, else the runtime moves it. -1: none.
  int cgroupFd = -1;
  // cgroup v1 hierarchies: the container process writes "0" to each `tasks` file (open, for
  // writing) as its first step, so no other process has to move it (CgroupManager::selfJoinDirs).
  struct CgroupTasks {
    int fd;
    std::string path;
  };
  std::vector<CgroupTasks> cgroupTasks;
  // A cgroup namespace to join (exec into a container that has one): the intermediate leaves it
  // to the child, which joins it once it is in its cgroups. clone3 into a cgroup outside the
  // caller's cgroup namespace fails (ENOENT), so the intermediate must still be in the host's.
  int joinCgroupNsFd = -1;
  bool unshareCgroup = false;
  bool newTime = false;
  struct Join {
    int type;  // CLONE_NEW*
    std::string path;
  };
  std::vector<Join> joins;  // joined in the intermediate process, user last
  std::string timeOffsets;  // "monotonic S N\nboottime S N\n" for /proc/self/timens_offsets
};

struct InitPlan {
  bool isExec = false;  // joining a running container: no rootfs work
  NamespacePlan ns;
  ProcessPlan process;

  // Rootfs (create only).
  // Where the container's mounts are made (runtime-spec: a namespace type that is not listed is
  // inherited from the runtime).
  enum class MountNamespace {
    kNew,     // its own: pivot_root into the rootfs
    kJoined,  // linux.namespaces[].path: set up in there, as in a new one
    // the runtime's: the rootfs is a bind the runtime made under the container's state
    // directory (ContainerPaths::rootfs), whose detach at delete takes every mount with it;
    // chroot, nothing else on the host is touched
    kHost,
  };
  MountNamespace mountNamespace = MountNamespace::kNew;
  std::string rootfs;                 // absolute host path
  unsigned long rootPropagation = 0;  // MS_SLAVE|MS_REC by default
  // The mount the rootfs lives on: made private when / is shared (pivot_root refuses a new root
  // whose parent mount is shared).
  std::string rootfsParentMount;
  bool noPivot = false;
  // --no-pivot: proc and sysfs mounts outside the rootfs, detached so the container can't mount
  // a fresh procfs next to a fully visible one (runc's msMoveRoot).
  std::vector<std::string> noPivotDetach;
  bool readonlyRoot = false;
  bool userns = false;  // a new user namespace: devices are bind-mounted, not mknod'ed
  std::vector<MountStep> mounts;
  std::vector<CgroupBind> cgroupBinds;
  // cgroup v2: the container's cgroup directory, bound on /sys/fs/cgroup when a cgroup2 mount is
  // not permitted (a user namespace without a cgroup namespace), as runc does.
  std::string cgroupV2Path;
  bool defaultDev = false;  // /dev is not a host bind: create devices and symlinks
  std::vector<DeviceNode> devices;
  std::vector<std::string> maskedPaths;
  std::vector<std::string> readonlyPaths;
  struct Sysctl {
    std::string procPath;  // /proc/sys/net/ipv4/ip_forward
    std::string value;
  };
  std::vector<Sysctl> sysctls;
  std::string hostname;
  bool setHostname = false;
  std::string domainname;
  bool setDomainname = false;

  std::string sessionKeyring;  // "_ses.<id>": joined as a new session keyring; empty: keep ours

  // linux.seccomp, loaded just before exec with no_new_privs, else before dropping capabilities
  // (runc's standard_init_linux.go); exec'd processes get the container's filter too.
  SeccompProgram seccomp;

  std::vector<HookCmd> createContainerHooks;
  std::vector<HookCmd> startContainerHooks;

  // Hand-offs with the runtime that only some containers need (each costs two wake-ups):
  // kGo (id maps, a cgroup move, oom_score_adj or state for hooks to come from the runtime
  // first, or an intermediate's kPid) and kRunHooks (prestart/createRuntime hooks). A child
  // cloned without CLONE_INTO_CGROUP where a cgroupFd was given waits for kGo too: the runtime
  // moves it.
  bool waitForGo = true;
  bool runtimeHooks = true;
  int execFifoFd = -1;  // O_PATH fd of <state>/exec.fifo (create only)
  // exec into a container in the runtime's mount namespace: its root, to chroot into.
  int execRootFd = -1;
  int consoleSocketFd = -1;  // receives the pty master
  int syncFd = -1;           // socketpair end to the runtime
  // The runtime's end, which a child cloned straight from the runtime holds a copy of: closed
  // first thing, or the runtime's death would never reach the child as EOF.
  int runtimeSyncFd = -1;

  // Owned by the runtime's copy of the plan (the child exits without destructors): fds the child
  // uses by number, like bind sources.
  std::vector<UniqueFd> ownedFds;
};

}  // namespace berth::runtime
