#include "tests/integration/proxy/proxy_netns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

namespace berth::testing {

namespace {

Status run(const std::vector<std::string>& commands) {
  for (const std::string& cmd : commands) {
    auto [code, out] = sh(cmd);
    if (code != 0) return fail(Code::kInternal, "{}: {}", cmd, out);
  }
  return {};
}

sockaddr_in v4(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

}  // namespace

Status addPod(const TestNetns& node, const TestNetns& pod, int n) {
  const std::string& nn = node.name();
  const std::string side = fmt::format("vp{}", n);
  return run({
      fmt::format("ip -n {} link add {} type veth peer name eth0 netns {}", nn, side, pod.name()),
      fmt::format("ip -n {} addr add 10.1.{}.1/24 dev {}", nn, n, side),
      fmt::format("ip -n {} link set {} up", nn, side),
      fmt::format("ip -n {} addr add 10.1.{}.2/24 dev eth0", pod.name(), n),
      fmt::format("ip -n {} link set eth0 up", pod.name()),
      fmt::format("ip -n {} link set lo up", pod.name()),
      fmt::format("ip -n {} route add default via 10.1.{}.1", pod.name(), n),
  });
}

Status routeServiceCidr(const TestNetns& node, const std::string& cidr) {
  // A veth pair with both ends in the node (the machine may lack the dummy module).
  const std::string& n = node.name();
  return run({
      fmt::format("ip -n {} link set lo up", n),
      fmt::format("ip -n {} link add svc0 type veth peer name svc1", n),
      fmt::format("ip -n {} link set svc0 up", n),
      fmt::format("ip -n {} link set svc1 up", n),
      fmt::format("ip -n {} route add {} dev svc0", n, cidr),
  });
}

PodServer::PodServer(const NetNs& ns, const std::string& ip, std::string name, uint16_t port,
                     bool echo)
    : name_(std::move(name)), echo_(echo) {
  auto fd = inNetNs(ns, [&]() -> Result<UniqueFd> {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return failErrno("socket");
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = v4(ip, port);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return failErrno("bind");
    if (::listen(s.get(), 16) < 0) return failErrno("listen");
    return s;
  });
  EXPECT_TRUE(fd) << fd.error().message();
  if (!fd) return;
  fd_ = std::move(*fd);
  thread_ = std::thread([this] {
    while (!stop_) {
      int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) serve(c);
    }
  });
}

void PodServer::serve(int c) {
  (void)!::write(c, name_.data(), name_.size());
  if (!echo_) {
    ::close(c);
    return;
  }
  std::lock_guard lock(mu_);
  clients_.push_back(c);
  echoThreads_.emplace_back([c] {
    char buf[256];
    for (ssize_t n; (n = ::read(c, buf, sizeof buf)) > 0;)
      (void)!::write(c, buf, static_cast<size_t>(n));
  });
}

PodServer::~PodServer() {
  stop_ = true;
  if (fd_) ::shutdown(fd_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  for (int c : clients_)
    ::shutdown(c, SHUT_RDWR);
  for (std::thread& t : echoThreads_)
    t.join();
  for (int c : clients_)
    ::close(c);
}

Result<std::unique_ptr<LoopbackForwarder>> LoopbackForwarder::start(const NetNs& ns,
                                                                    uint16_t port) {
  UniqueFd listener = BERTH_TRY(inNetNs(ns, [&]() -> Result<UniqueFd> {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return failErrno("socket");
    int one = 1;
    ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = v4("127.0.0.1", port);
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
      return failErrno("bind 127.0.0.1 in the node");
    if (::listen(s.get(), 64) < 0) return failErrno("listen");
    return s;
  }));
  return std::unique_ptr<LoopbackForwarder>(new LoopbackForwarder(std::move(listener), port));
}

LoopbackForwarder::LoopbackForwarder(UniqueFd listener, uint16_t port)
    : listener_(std::move(listener)), port_(port) {
  acceptor_ = std::thread([this] {
    while (!stop_) {
      UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c) relay(std::move(c));
    }
  });
}

void LoopbackForwarder::relay(UniqueFd inside) {
  UniqueFd outside(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = v4("127.0.0.1", port_);
  if (!outside || ::connect(outside.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return;
  std::lock_guard lock(mu_);
  // The forwarder keeps the sockets until it goes, so a number it shuts down is never reused.
  pollfd fds[2] = {{inside.get(), POLLIN, 0}, {outside.get(), POLLIN, 0}};
  open_.push_back(std::move(inside));
  open_.push_back(std::move(outside));
  relays_.emplace_back([fds]() mutable {
    char buf[16384];
    while (::poll(fds, 2, -1) > 0) {
      for (int i = 0; i < 2; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) return;
      }
    }
  });
}

LoopbackForwarder::~LoopbackForwarder() {
  stop_ = true;
  ::shutdown(listener_.get(), SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  std::lock_guard lock(mu_);
  for (const UniqueFd& fd : open_)
    ::shutdown(fd.get(), SHUT_RDWR);
  for (std::thread& t : relays_)
    t.join();
}

Result<UniqueFd> connectFrom(const NetNs& ns, const std::string& ip, uint16_t port) {
  return inNetNs(ns, [&]() -> Result<UniqueFd> {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return failErrno("socket");
    timeval tv{5, 0};
    ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a = v4(ip, port);
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
      return failErrno(fmt::format("connect {}:{}", ip, port));
    return s;
  });
}

std::string fetch(const NetNs& ns, const std::string& ip, uint16_t port) {
  auto s = connectFrom(ns, ip, port);
  if (!s) {
    return s.error().sysErrno() == ECONNREFUSED ? std::string("refused")
                                                : "error: " + s.error().message();
  }
  char buf[64];
  ssize_t n = ::read(s->get(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("error: empty");
}

}  // namespace berth::testing
