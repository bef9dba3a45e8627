#pragma once
// `run` and `exec` without --detach: wait for the process while forwarding the signals this
// runtime receives, and (when the runtime owns the terminal) shuttle bytes between our stdio and
// the container's pty.

#include <signal.h>

#include "common/child_process.h"
#include "common/result.h"

namespace berth::runtime {

// Blocks the signals the foreground loop forwards; call before starting the process so none is
// lost. The container's init unblocks them before exec.
void blockForwardedSignals();

// Waits for `child`; ptyMaster is -1 when the process has our stdio directly.
[[nodiscard]] Result<ExitStatus> superviseForeground(ChildProcess& child, int ptyMaster);

}  // namespace berth::runtime
