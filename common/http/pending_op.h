#pragma once
// A blocking call over an asynchronous operation, with a deadline that does not cancel it: the
// first call starts the operation and waits; when the deadline passes first, the operation stays
// in flight and the next call waits for the same result. So a read with a timeout never loses
// bytes, and no socket operation is ever cancelled half-way (which a TLS or WebSocket stream does
// not survive).
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace berth::http {

template <class T>
class PendingOp : public std::enable_shared_from_this<PendingOp<T>> {
 public:
  using Complete = std::function<void(T)>;
  using Start = std::function<void(Complete)>;

  static std::shared_ptr<PendingOp> create() { return std::shared_ptr<PendingOp>(new PendingOp); }

  // The result of the operation in flight, or of one `start` begins now; nullopt when `timeout`
  // passed first. `start` may complete on any thread, even before it returns.
  std::optional<T> await(const Start& start, std::optional<std::chrono::milliseconds> timeout) {
    std::unique_lock lock(mu_);
    if (!inFlight_ && !ready_) {
      inFlight_ = true;
      lock.unlock();
      start([self = this->shared_from_this()](T result) { self->complete(std::move(result)); });
      lock.lock();
    }
    auto done = [&] { return ready_.has_value(); };
    if (timeout) {
      if (!cv_.wait_for(lock, *timeout, done)) return std::nullopt;
    } else {
      cv_.wait(lock, done);
    }
    inFlight_ = false;
    std::optional<T> out = std::move(ready_);
    ready_.reset();
    return out;
  }

 private:
  PendingOp() = default;
  void complete(T result) {
    {
      std::lock_guard lock(mu_);
      ready_ = std::move(result);
    }
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool inFlight_ = false;
  std::optional<T> ready_;
};

// Runs `start` and waits for its completion, however long it takes.
template <class T>
T awaitDone(const typename PendingOp<T>::Start& start) {
  return *PendingOp<T>::create()->await(start, std::nullopt);
}

}  // namespace berth::http
