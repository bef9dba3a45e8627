#pragma once
// A single-threaded epoll loop: fds with a handler each, dispatched from runOnce(). A handler may
// add or remove fds (its own included) while events are dispatched.
#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "common/result.h"
#include "common/unique_fd.h"

namespace berth {

class EventLoop {
 public:
  using Handler = std::function<void(std::uint32_t events)>;

  [[nodiscard]] static Result<EventLoop> create();

  // The fd stays owned by the caller; remove() it before closing it.
  [[nodiscard]] Status add(int fd, std::uint32_t events, Handler handler);
  [[nodiscard]] Status modify(int fd, std::uint32_t events);
  void remove(int fd);
  bool contains(int fd) const { return handlers_.contains(fd); }

  // Waits up to timeoutMs (-1: no limit) and runs the handlers of the ready fds; returns how
  // many ran (0 on timeout).
  [[nodiscard]] Result<int> runOnce(int timeoutMs);

 private:
  explicit EventLoop(UniqueFd epoll) : epoll_(std::move(epoll)) {}

  UniqueFd epoll_;
  // shared_ptr: a handler that removes itself is kept alive until it returns.
  std::unordered_map<int, std::shared_ptr<Handler>> handlers_;
};

}  // namespace berth
