#include "common/event_loop.h"

#include <array>

namespace berth {

Result<EventLoop> EventLoop::create() {
  UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd) return failErrno("epoll_create1");
  return EventLoop(std::move(fd));
}

Status EventLoop::add(int fd, std::uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return failErrno(fmt::format("epoll add fd {}", fd));
  handlers_[fd] = std::make_shared<Handler>(std::move(handler));
  return {};
}

Status EventLoop::modify(int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
    return failErrno(fmt::format("epoll modify fd {}", fd));
  return {};
}

void EventLoop::remove(int fd) {
  if (handlers_.erase(fd) != 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

Result<int> EventLoop::runOnce(int timeoutMs) {
  std::array<epoll_event, 32> events;
  int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeoutMs);
  if (n < 0) {
    if (errno == EINTR) return 0;
    return failErrno("epoll_wait");
  }
  int ran = 0;
  for (int i = 0; i < n; ++i) {
    auto it = handlers_.find(events[i].data.fd);
    if (it == handlers_.end()) continue;  // removed by an earlier handler of this batch
    std::shared_ptr<Handler> handler = it->second;
    (*handler)(events[i].events);
    ++ran;
  }
  return ran;
}

}  // namespace berth
