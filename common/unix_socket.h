#pragma once
// Unix domain sockets by path: connect, listen, and SCM_RIGHTS fd passing. A path too long for
// sockaddr_un (108 bytes; container state dirs get there) goes through /proc/self/fd/<dir>/<name>,
// and a path starting with '@' names an abstract socket.
#include <sys/socket.h>

#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

// type: SOCK_STREAM or SOCK_SEQPACKET (SOCK_CLOEXEC is added).
[[nodiscard]] Result<UniqueFd> connectUnix(std::string_view path, int type = SOCK_STREAM);
// Binds and listens; an existing socket file at path is an error (kAlreadyExists).
[[nodiscard]] Result<UniqueFd> listenUnix(std::string_view path, int type = SOCK_STREAM,
                                          int backlog = 16);
// Receives one message carrying one fd (SCM_RIGHTS, received close-on-exec).
[[nodiscard]] Result<UniqueFd> receiveFd(int sock);

}  // namespace berth
