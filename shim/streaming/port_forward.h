#pragma once
// Kubernetes' port-forward protocols (the CRI PortForward URL). Over SPDY (portforward.k8s.io):
// for every forwarded connection the client opens a pair of streams with the same "requestid"
// and "port" headers, streamtype "data" and "error". Each pair becomes one connection to the
// pod's port, relayed through a socketpair whose other end the runtime connects inside the pod's
// network namespace; a failure is reported as text on the pair's error stream. Over WebSocket:
// servePortForwardWebSocket below.
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "shim/streaming/http_request.h"

namespace berth::shim {

inline constexpr std::string_view kPortForwardV1 = "portforward.k8s.io";
inline constexpr std::string_view kPortForwardTunnel = "SPDY/3.1+portforward.k8s.io";

// Connects `stream` (a connected SOCK_STREAM socket) to the port until either side is done.
using PortForwarder = std::function<Status(std::int32_t port, UniqueFd stream)>;

// One forwarded connection, for either transport: a socketpair whose far end the runtime connects
// to the port on a thread of the relay's own; what the pod sends goes to `data`, a failure to
// `error`, and both end (fin) when the pod side is done.
class PortRelay {
 public:
  // Sends on the client's channel; false once the client is gone.
  using Send = std::function<bool(std::string_view data, bool fin)>;
  PortRelay() = default;
  PortRelay(const PortRelay&) = delete;
  PortRelay& operator=(const PortRelay&) = delete;
  ~PortRelay();  // aborts and joins

  // `done` runs on the relay's thread once it has finished.
  [[nodiscard]] Status start(std::int32_t port, const std::string& podSandboxId,
                             const PortForwarder& forward, Send data, Send error,
                             std::function<void()> done = {});
  bool started() const { return thread_.joinable(); }
  // From the client (the transport's reader thread).
  void fromClient(std::string_view data);
  void clientDone();  // the client sends no more
  void abort();       // both directions end
  void join();

 private:
  UniqueFd local_;  // ours; the runtime gets the peer
  std::thread thread_;
};

// Serves one SPDY connection until the client closes it.
[[nodiscard]] Status servePortForward(UniqueFd socket, const HttpRequest& request,
                                      std::string pending, const std::string& podSandboxId,
                                      const PortForwarder& forward);

// Serves one WebSocket connection that tunnels the SPDY protocol (subprotocol
// SPDY/3.1+portforward.k8s.io, what kubectl 1.30+ offers): binary messages carry the SPDY
// session's bytes, cut anywhere; no HTTP upgrade inside.
[[nodiscard]] Status servePortForwardTunnel(UniqueFd socket, const HttpRequest& request,
                                            std::string pending, const std::string& podSandboxId,
                                            const PortForwarder& forward);

// Serves one WebSocket connection (the kubelet's v4.channel.k8s.io port-forward): the ports
// come from the `port` query parameters (a 400 names a bad one), channel 2i carries port i's
// data both ways and 2i+1 its errors, each starting with the port (2 bytes, little-endian);
// the connection closes once every forward has ended.
[[nodiscard]] Status servePortForwardWebSocket(UniqueFd socket, const HttpRequest& request,
                                               std::string pending, const std::string& podSandboxId,
                                               const PortForwarder& forward);

// The ports of a WebSocket port-forward request's query, with the kubelet's messages.
[[nodiscard]] Result<std::vector<std::int32_t>> parsePortQuery(const HttpRequest& request);

}  // namespace berth::shim
