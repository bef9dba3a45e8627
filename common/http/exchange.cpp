#include "common/http/exchange.h"

namespace berth::http {

bool Exchange::claim(Kind kind) {
  std::lock_guard lock(mu_);
  if (kind_ != Kind::kNone || closed_) return false;
  kind_ = kind;
  return true;
}

Exchange::Push Exchange::push(std::size_t bytes) {
  std::lock_guard lock(mu_);
  if (closed_ || kind_ != Kind::kStream || finished_) return Push::kClosed;
  queued_ += bytes;
  if (queued_ > maxQueued_) {
    closed_ = true;
    return Push::kTooSlow;
  }
  return Push::kOk;
}

bool Exchange::finish() {
  std::lock_guard lock(mu_);
  if (closed_ || kind_ != Kind::kStream || finished_) return false;
  finished_ = true;
  return true;
}

void Exchange::setOnClose(std::function<void()> callback) {
  std::unique_lock lock(mu_);
  if (!closed_ || completed_) {
    if (!completed_) onClose_ = std::move(callback);
    return;
  }
  // Gone already: the callback set too late still learns it, on the caller's thread.
  lock.unlock();
  if (callback) callback();
}

bool Exchange::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

Exchange::Kind Exchange::kind() const {
  std::lock_guard lock(mu_);
  return kind_;
}

void Exchange::drained(std::size_t bytes) {
  std::lock_guard lock(mu_);
  queued_ -= std::min(queued_, bytes);
}

void Exchange::completed() {
  std::function<void()> drop;
  std::lock_guard lock(mu_);
  completed_ = true;
  drop.swap(onClose_);  // may hold the writer: released outside the lock (at scope end, after)
}

void Exchange::connectionClosed() {
  std::function<void()> callback;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    if (!completed_) callback.swap(onClose_);
    onClose_ = nullptr;
  }
  if (callback) callback();
}

}  // namespace berth::http
