#include "kubelet/prober/tcp_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "common/free_port_for_test.h"
#include "common/unique_fd.h"

namespace berth::kubelet::prober {
namespace {

using namespace std::chrono_literals;

// A socket listening on 127.0.0.1 (the kernel completes handshakes; nobody accepts).
struct Listener {
  UniqueFd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  int port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd.get(), 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
};

TEST(TcpProbeTest, ListeningPortSucceeds) {
  Listener l;
  ProbeOutcome o = tcpProbe("127.0.0.1", l.port, 1s);
  EXPECT_EQ(o.result, HandlerResult::kSuccess) << o.output;
}

TEST(TcpProbeTest, HostNameIsResolved) {
  Listener l;
  EXPECT_EQ(tcpProbe("localhost", l.port, 1s).result, HandlerResult::kSuccess);
}

TEST(TcpProbeTest, ClosedPortFailsWithDialMessage) {
  auto port = berth::testing::freeLoopbackPort();
  ASSERT_TRUE(port);
  ProbeOutcome o = tcpProbe("127.0.0.1", *port, 1s);
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_EQ(o.output,
            "dial tcp 127.0.0.1:" + std::to_string(*port) + ": connect: connection refused");
}

TEST(TcpProbeTest, FullBacklogTimesOut) {
  // A listener with a backlog of 0 whose queue is filled: further SYNs go unanswered, which is
  // what an unreachable peer looks like, without sending anything off loopback.
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd.get(), 0), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  std::vector<UniqueFd> fillers;
  for (int i = 0; i < 4; ++i) {
    UniqueFd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    ::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(std::move(c));
  }
  ProbeOutcome o = tcpProbe("127.0.0.1", port, 300ms);
  if (o.result == HandlerResult::kSuccess) GTEST_SKIP() << "this kernel accepted past the backlog";
  EXPECT_EQ(o.result, HandlerResult::kFailure);
  EXPECT_EQ(o.output, "dial tcp 127.0.0.1:" + std::to_string(port) + ": i/o timeout");
}

}  // namespace
}  // namespace berth::kubelet::prober
