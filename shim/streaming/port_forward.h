#pragma once
// Kubernetes' port-forward protocol over SPDY (portforward.k8s.io, the CRI PortForward URL):
// for every forwarded connection the client opens a pair of streams with the same "requestid"
// and "port" headers, streamtype "data" and "error". Each pair becomes one connection to the
// pod's port, relayed through a socketpair whose other end the runtime connects inside the pod's
// network namespace; a failure is reported as text on the pair's error stream.
#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/http_request.h"

namespace berth::shim {

inline constexpr std::string_view kPortForwardV1 = "portforward.k8s.io";

// Connects `stream` (a connected SOCK_STREAM socket) to the port until either side is done.
using PortForwarder = std::function<Status(std::int32_t port, UniqueFd stream)>;

// Serves one upgraded connection until the client closes it.
[[nodiscard]] Status servePortForward(UniqueFd socket, const HttpRequest& request,
                                      std::string pending, const std::string& podSandboxId,
                                      const PortForwarder& forward);

}  // namespace berth::shim
