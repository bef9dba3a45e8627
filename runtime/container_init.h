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

}  // namespace berth::runtime
