#include "controlplane/apiserver/watch_timeouts.h"

namespace berth::controlplane::apiserver {

WatchTimeouts::WatchTimeouts() : thread_([this] { run(); }) {}

WatchTimeouts::~WatchTimeouts() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::uint64_t WatchTimeouts::add(Clock::time_point deadline, std::function<void()> expire) {
  std::uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = nextId_++;
    byDeadline_.emplace(deadline, id);
    pending_.emplace(id, std::make_pair(deadline, std::move(expire)));
  }
  cv_.notify_all();
  return id;
}

void WatchTimeouts::cancel(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto [first, last] = byDeadline_.equal_range(it->second.first);
  for (auto d = first; d != last; ++d) {
    if (d->second == id) {
      byDeadline_.erase(d);
      break;
    }
  }
  pending_.erase(it);
}

void WatchTimeouts::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (byDeadline_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto next = byDeadline_.begin();
    if (Clock::now() < next->first) {
      cv_.wait_until(lock, next->first);
      continue;
    }
    std::uint64_t id = next->second;
    byDeadline_.erase(next);
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;
    std::function<void()> expire = std::move(it->second.second);
    pending_.erase(it);
    lock.unlock();
    expire();  // outside the lock: it may cancel or add
    lock.lock();
  }
}

}  // namespace berth::controlplane::apiserver
