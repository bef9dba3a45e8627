#pragma once
// Network namespaces as a node and its pods for the proxy's integration tests, and TCP traffic
// between them: pod n is 10.1.<n>.2/24 behind a veth whose node end is 10.1.<n>.1; the service
// CIDR is routed inside the node to a veth pair with both ends there, so a packet whose DNAT rule
// is missing never leaves the node namespace.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/netns.h"
#include "common/result.h"
#include "common/unique_fd.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {

// Connects `pod` to `node` as pod number `n` (1..254).
[[nodiscard]] Status addPod(const TestNetns& node, const TestNetns& pod, int n);
// Routes `cidr` inside the node to a veth pair of its own; brings the node's lo up.
[[nodiscard]] Status routeServiceCidr(const TestNetns& node, const std::string& cidr);

// A TCP server in a pod namespace answering each connection with its name. With `echo`, the
// connection then stays open and every read is written back (a long-lived connection).
class PodServer {
 public:
  PodServer(const NetNs& ns, const std::string& ip, std::string name, uint16_t port = 8080,
            bool echo = false);
  ~PodServer();

 private:
  void serve(int fd);
  std::string name_;
  bool echo_;
  UniqueFd fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> clients_;  // open echo connections, shut down on destruction
  std::vector<std::thread> echoThreads_;
};

// Makes a loopback port of the test's own network namespace reachable on the same port of
// 127.0.0.1 inside `ns` (a node's process reaching berth-server, which listens on the test's
// loopback): each connection accepted there is relayed to here.
class LoopbackForwarder {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LoopbackForwarder>> start(const NetNs& ns,
                                                                        uint16_t port);
  ~LoopbackForwarder();

 private:
  LoopbackForwarder(UniqueFd listener, uint16_t port);
  void relay(UniqueFd inside);
  UniqueFd listener_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<UniqueFd> open_;  // relayed sockets, shut down on destruction
  std::vector<std::thread> relays_;
};

// A TCP connection made from inside a namespace; 5 s timeouts on every read and write.
[[nodiscard]] Result<UniqueFd> connectFrom(const NetNs& ns, const std::string& ip, uint16_t port);
// Connects from `ns` to ip:port; the server's name, or "refused"/"error: ...".
std::string fetch(const NetNs& ns, const std::string& ip, uint16_t port);

}  // namespace berth::testing
