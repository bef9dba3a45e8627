#include "runtime/launcher.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/unique_fd.h"
#include "runtime/container_init.h"
#include "runtime/plan_builder.h"
#include "runtime/sync_protocol.h"

namespace berth::runtime {

namespace {

Error childError(const SyncMsg& m) {
  if (m.value == 0) return Error(Code::kFailedPrecondition, m.text).context("container init");
  return errnoError(m.value, m.text).context("container init");
}

Status send(int fd, SyncType type, int32_t value = 0) {
  if (!syncSend(fd, type, value)) return failErrno("send to container init");
  return {};
}

// An unexpected EOF: the child died. Say how.
Error childDied(ChildProcess& child) {
  auto st = child.waitFor(std::chrono::milliseconds(0));
  if (st && *st)
    return Error(Code::kInternal,
                 fmt::format("container init exited unexpectedly with status {}", (*st)->code));
  return Error(Code::kInternal, "container init closed its sync socket unexpectedly");
}

// Forks the intermediate process, which joins namespaces and clones the container process as our
// child (runIntermediate); returns that child once the intermediate has reported it.
Result<ChildProcess> cloneThroughIntermediate(InitPlan& plan, UniqueFd& parentSock,
                                              UniqueFd& childSock, bool* bornInCgroup) {
  pid_t mid = ::fork();
  if (mid < 0) return failErrno("fork");
  if (mid == 0) {
    ::close(parentSock.release());
    runIntermediate(plan);
  }
  ChildProcess intermediate(mid);
  childSock.reset();
  SyncMsg m;
  bool got = syncRecv(parentSock.get(), &m);
  auto midStatus = BERTH_TRY(intermediate.wait());
  if (!got)
    return fail(Code::kInternal, "namespace setup process exited with status {}", midStatus.code);
  if (m.type == SyncType::kError) return std::unexpected(childError(m));
  if (m.type != SyncType::kPid) return fail(Code::kInternal, "unexpected message from init");
  *bornInCgroup = std::string_view(m.text) == "placed";
  return ChildProcess(m.value);
}

}  // namespace

Result<ChildProcess> launch(LaunchRequest& r) {
  InitPlan& plan = *r.plan;
  int sp[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
    return failErrno("socketpair");
  UniqueFd parentSock(sp[0]), childSock(sp[1]);
  plan.syncFd = childSock.get();
  linkPointers(plan);
  // The child is cloned straight into its cgroup v2 directory and moves itself into the v1 ones
  // (CgroupManager::cloneIntoDir, selfJoinDirs): nobody writes its pid to a cgroup.procs file.
  UniqueFd cgroupDir;
  std::vector<UniqueFd> tasksFds;
  bool selfJoin = false;
  if (r.cgroup && !r.cgroup->systemd()) {
    selfJoin = true;
    if (auto dir = r.cgroup->cloneIntoDir(); !dir.empty()) {
      cgroupDir.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      plan.ns.cgroupFd = cgroupDir.get();
      selfJoin = static_cast<bool>(cgroupDir);  // else the runtime moves it (and says why not)
    }
    for (const auto& dir : r.cgroup->selfJoinDirs()) {
      std::string tasks = dir + "/tasks";
      UniqueFd fd(::open(tasks.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd) {
        // A hierarchy without a tasks file (or one we can't open): the runtime moves the child.
        selfJoin = false;
        plan.ns.cgroupTasks.clear();
        tasksFds.clear();
        break;
      }
      plan.ns.cgroupTasks.push_back({fd.get(), std::move(tasks)});
      tasksFds.push_back(std::move(fd));
    }
  }

  // What the child has to wait for: anything the runtime does to it from outside first, and,
  // through an intermediate, the intermediate's kPid, which its messages must not overtake on
  // the socket they share.
  plan.waitForGo = needsIntermediate(plan) || !r.uidMap.empty() || (r.cgroup && !selfJoin) ||
                   plan.process.setOomScoreAdj || static_cast<bool>(r.stateForChild);
  plan.runtimeHooks = static_cast<bool>(r.runtimeHooks);

  ChildProcess child;
  bool bornInCgroup = false;
  if (needsIntermediate(plan)) {
    child = BERTH_TRY(cloneThroughIntermediate(plan, parentSock, childSock, &bornInCgroup));
  } else {
    // Nothing to join first: one process fewer to fork, wait for and reap.
    plan.runtimeSyncFd = parentSock.get();
    long pid = cloneContainer(plan, &bornInCgroup);
    if (pid < 0) return failErrno("clone container process");
    child = ChildProcess(static_cast<pid_t>(pid));
    childSock.reset();
  }
  // Placed: born in its v2 cgroup (or there is none) and joining the v1 ones itself.
  bool placed = selfJoin && (plan.ns.cgroupFd < 0 || bornInCgroup);
  SyncMsg m;
  spdlog::debug("launch: container process {} cloned, namespace flags {:#x}{}", child.pid(),
                plan.ns.cloneFlags, placed ? ", placed in its cgroups without a move" : "");

  if (!r.uidMap.empty()) {
    BERTH_TRY(writeKernelFile(fmt::format("/proc/{}/uid_map", child.pid()), r.uidMap));
    BERTH_TRY(writeKernelFile(fmt::format("/proc/{}/gid_map", child.pid()), r.gidMap));
  }
  if (r.cgroup && !placed) BERTH_TRY(r.cgroup->addProcess(child.pid()));
  // Written from here: the child is not dumpable, so its /proc files belong to host root.
  if (plan.process.setOomScoreAdj)
    BERTH_TRY_CTX(writeKernelFile(fmt::format("/proc/{}/oom_score_adj", child.pid()),
                                  plan.process.oomScoreAdj),
                  "process.oomScoreAdj");
  if (r.stateForChild) {
    std::string state = r.stateForChild(child.pid());
    BERTH_TRY(send(parentSock.get(), SyncType::kState, static_cast<int32_t>(state.size())));
    if (::send(parentSock.get(), state.data(), state.size(), MSG_NOSIGNAL) < 0)
      return failErrno("send state to container init");
  }
  if (mustWaitForGo(plan, bornInCgroup)) BERTH_TRY(send(parentSock.get(), SyncType::kGo));

  for (;;) {
    int passed = -1;
    if (!syncRecv(parentSock.get(), &m, &passed)) return std::unexpected(childDied(child));
    UniqueFd passedFd(passed);
    switch (m.type) {
      case SyncType::kRunHooks:
        spdlog::debug("launch: rootfs of {} mounted, running runtime hooks", child.pid());
        if (r.runtimeHooks) BERTH_TRY(r.runtimeHooks(child.pid()));
        BERTH_TRY(send(parentSock.get(), SyncType::kHooksDone));
        break;
      case SyncType::kSeccompListener:
        if (!passedFd || !r.seccompListener)
          return fail(Code::kInternal, "unexpected seccomp listener from container init");
        spdlog::debug("launch: seccomp listener of {} for {}", child.pid(),
                      plan.seccomp.listenerPath);
        BERTH_TRY(r.seccompListener(child.pid(), passedFd.get()));
        // Ours is closed now: once the agent closes its copy, notified syscalls get ENOSYS.
        passedFd.reset();
        BERTH_TRY(send(parentSock.get(), SyncType::kSeccompDone));
        break;
      case SyncType::kMountSource: {
        UniqueFd tree = BERTH_TRY(cloneMountSource(plan, static_cast<size_t>(m.value)));
        if (!syncSendFd(parentSock.get(), SyncType::kMountTree, tree.get()))
          return failErrno("send mount source to container init");
        break;
      }
      case SyncType::kReady:
        spdlog::debug("launch: process {} is set up ({})", child.pid(),
                      plan.isExec        ? "about to exec"
                      : r.keepSyncSocket ? "waiting to be released"
                                         : "waiting on exec.fifo");
        if (r.keepSyncSocket) r.syncSocket = std::move(parentSock);
        return child;
      case SyncType::kError:
        return std::unexpected(childError(m));
      default:
        return fail(Code::kInternal, "unexpected message {} from container init",
                    static_cast<int>(m.type));
    }
  }
}

}  // namespace berth::runtime
