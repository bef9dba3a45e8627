#pragma once
// The runtime's side of starting a container process: fork the intermediate, receive the
// container's pid, write its id maps, put it in its cgroup, answer its hook requests, and wait
// until it is ready (blocked on exec.fifo for create, about to exec for exec).

#include <functional>
#include <string>

#include "common/child_process.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "runtime/cgroup_manager.h"
#include "runtime/init_plan.h"

namespace berth::runtime {

struct LaunchRequest {
  InitPlan* plan = nullptr;
  CgroupManager* cgroup = nullptr;  // joined before the process does anything
  std::string uidMap, gidMap;       // /proc/<pid>/{uid,gid}_map contents for a new user ns
  // State JSON for hooks the container runs itself; empty when it has none.
  std::function<std::string(pid_t)> stateForChild;
  // prestart + createRuntime hooks, run when the rootfs is ready (before pivot_root).
  std::function<Status(pid_t)> runtimeHooks;
  // Hands the seccomp listener fd of process `pid` to the agent (linux.seccomp.listenerPath);
  // set when the filter has SCMP_ACT_NOTIFY rules.
  std::function<Status(pid_t, int)> seccompListener;
  // `run`: keep the runtime's end of the sync socket once the child is ready, in syncSocket, to
  // release it with kStart (the plan has no exec.fifo).
  bool keepSyncSocket = false;
  UniqueFd syncSocket;
};

// On success the returned owner holds the (live) container process; release() it to keep it.
// On failure the process is killed and reaped and the error says what the child was doing.
[[nodiscard]] Result<ChildProcess> launch(LaunchRequest& request);

}  // namespace berth::runtime
