#pragma once
// The processes between clone and exec. Everything here is C-style: the runtime has prepared an
// InitPlan, and these functions only issue system calls. They report failures to the runtime as
// (errno, what) over plan.syncFd and exit; they never return.

#include "runtime/init_plan.h"

namespace berth::runtime {

// Runs in the intermediate process the runtime forks: joins the namespaces listed in the plan,
// creates a time namespace if asked, clones the container process as a sibling (CLONE_PARENT, so
// the runtime can wait for it), reports its pid and exits.
[[noreturn]] void runIntermediate(InitPlan& plan);

// Whether the container process waits for the runtime's kGo (see InitPlan::waitForGo);
// `bornInCgroup`: cloned with CLONE_INTO_CGROUP.
bool mustWaitForGo(const InitPlan& plan, bool bornInCgroup);

// Whether the container process must be cloned by an intermediate process: one that joins
// namespaces first (setns) or creates a time namespace (unshare affects only later children).
bool needsIntermediate(const InitPlan& plan);

// Clones the container process straight from the runtime, when it needs no intermediate: returns
// its pid (the runtime's child), or -1 with errno. `placed`: born in plan.ns.cgroupFd.
long cloneContainer(InitPlan& plan, bool* placed);

}  // namespace berth::runtime
