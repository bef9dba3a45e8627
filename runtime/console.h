#pragma once
// Terminals: the --console-socket protocol (a unix socket that receives the pty master over
// SCM_RIGHTS, as runc's recvtty expects), and the proxy that `run`/`exec` use in the foreground
// when they own the terminal themselves.

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::runtime {

// Connects to a console socket given with --console-socket.
[[nodiscard]] Result<UniqueFd> connectConsoleSocket(const std::string& path);

}  // namespace berth::runtime
