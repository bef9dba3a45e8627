#pragma once
// The container's mount namespace, set up by its init between clone and exec (C-style; see
// container_init.h): rootfs bind, the spec's mounts resolved inside the rootfs, /dev, hooks that
// run before pivot_root, pivot_root, console, sysctls, masked/readonly paths, readonly root.

#include "runtime/init_plan.h"

namespace berth::runtime::init {

// Mounts everything and pivots into the rootfs. `runtimeHooks` is called when the rootfs is ready
// for the runtime's prestart/createRuntime hooks (before pivot_root).
void setupRootfs(const InitPlan& plan, void (*runtimeHooks)(const InitPlan&));
// Opens a pty in the container's devpts, sends the master to plan.consoleSocketFd and makes the
// slave the controlling terminal and stdio. `bindConsole`: also bind it on /dev/console.
void setupConsole(const InitPlan& plan, bool bindConsole);

}  // namespace berth::runtime::init
