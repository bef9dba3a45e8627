#include "kubeapi/work_queue.h"

#include <algorithm>

namespace berth::kubeapi {

WorkQueue::WorkQueue(std::unique_ptr<RateLimiter> limiter, Clock& clock)
    : limiter_(std::move(limiter)), clock_(clock) {}

WorkQueue::~WorkQueue() {
  shutDown();
}

void WorkQueue::addLocked(const std::string& item) {
  if (shuttingDown_ || dirty_.contains(item)) return;
  dirty_.insert(item);
  if (processing_.contains(item)) return;  // queued again at done()
  queue_.push_back(item);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& item) {
  std::lock_guard lock(mu_);
  addLocked(item);
}

void WorkQueue::addAfter(const std::string& item, std::chrono::nanoseconds delay) {
  std::lock_guard lock(mu_);
  if (shuttingDown_) return;
  if (delay <= std::chrono::nanoseconds::zero()) {
    addLocked(item);
    return;
  }
  auto due = clock_.now() + delay;
  auto [it, inserted] = waiting_.emplace(item, due);
  if (!inserted) it->second = std::min(it->second, due);
  cv_.notify_all();  // a waiter may need to wake up earlier
}

void WorkQueue::addRateLimited(const std::string& item) {
  addAfter(item, limiter_->when(item));
}
void WorkQueue::forget(const std::string& item) {
  limiter_->forget(item);
}
int WorkQueue::numRequeues(const std::string& item) {
  return limiter_->numRequeues(item);
}

void WorkQueue::promoteDueLocked() {
  auto now = clock_.now();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second <= now) {
      addLocked(it->first);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<std::string> WorkQueue::getLocked(
    std::unique_lock<std::mutex>& lock,
    std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (true) {
    promoteDueLocked();
    if (!queue_.empty()) {
      std::string item = std::move(queue_.front());
      queue_.pop_front();
      processing_.insert(item);
      dirty_.erase(item);
      return item;
    }
    if (shuttingDown_) return std::nullopt;
    // Wake for the earliest of: the first delayed item, the caller's deadline, a second (the
    // clock may be a test's, which moves without notifying us).
    std::chrono::nanoseconds wait = std::chrono::seconds(1);
    for (const auto& [item, due] : waiting_)
      wait = std::min(wait, due - clock_.now());
    if (deadline) {
      auto left = *deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::nanoseconds::zero()) return std::nullopt;
      wait = std::min<std::chrono::nanoseconds>(wait, left);
    }
    if (wait > std::chrono::nanoseconds::zero()) cv_.wait_for(lock, wait);
  }
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  return getLocked(lock, std::nullopt);
}

std::optional<std::string> WorkQueue::get(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  return getLocked(lock, deadline);
}

void WorkQueue::done(const std::string& item) {
  std::lock_guard lock(mu_);
  processing_.erase(item);
  if (dirty_.contains(item)) {
    queue_.push_back(item);
    cv_.notify_one();
  }
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mu_);
  shuttingDown_ = true;
  waiting_.clear();
  cv_.notify_all();
}

bool WorkQueue::shuttingDown() const {
  std::lock_guard lock(mu_);
  return shuttingDown_;
}

size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace berth::kubeapi
