#pragma once
// For tests that start servers of others on loopback (docker-registry, etcd): a TCP port on
// 127.0.0.1 that nothing listens on right now. The kernel picks it (bind to port 0); a tiny race
// remains until the server binds it, which tests accept.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth::testing {

inline Result<int> freeLoopbackPort() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return failErrno("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return failErrno("bind 127.0.0.1:0");
  }
  socklen_t len = sizeof addr;
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return failErrno("getsockname");
  }
  return ntohs(addr.sin_port);
}

}  // namespace berth::testing
