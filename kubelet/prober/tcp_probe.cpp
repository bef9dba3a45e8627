#include "kubelet/prober/tcp_probe.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "common/unique_fd.h"

namespace berth::kubelet::prober {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string lowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// One non-blocking connect, waited for until `deadline`; "" on success, else why.
std::string connectBy(const addrinfo& ai, SteadyTime deadline) {
  UniqueFd fd(
      ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai.ai_protocol));
  if (!fd) return "socket: " + lowerFirst(std::strerror(errno));
  // probe.ProbeDialer: linger 1 s rather than sit in TIME_WAIT for a minute.
  linger l{.l_onoff = 1, .l_linger = 1};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  if (::connect(fd.get(), ai.ai_addr, ai.ai_addrlen) == 0) return {};
  if (errno != EINPROGRESS) return "connect: " + lowerFirst(std::strerror(errno));
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return "i/o timeout";
    pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "poll: " + lowerFirst(std::strerror(errno));
    if (n == 0) return "i/o timeout";
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    return err == 0 ? std::string() : "connect: " + lowerFirst(std::strerror(err));
  }
}

}  // namespace

ProbeOutcome tcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout) {
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  const std::string addr = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                                               : fmt::format("{}:{}", host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return {HandlerResult::kFailure,
            fmt::format("dial tcp: lookup {}: {}", host, lowerFirst(::gai_strerror(rc)))};
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  std::string why;
  for (const addrinfo* ai = list.get(); ai; ai = ai->ai_next) {
    why = connectBy(*ai, deadline);
    if (why.empty()) return {HandlerResult::kSuccess, ""};
    if (why == "i/o timeout") break;
  }
  return {HandlerResult::kFailure, fmt::format("dial tcp {}: {}", addr, why)};
}

}  // namespace berth::kubelet::prober
