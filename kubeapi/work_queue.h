#pragma once
// client-go's rate-limited work queue (workqueue.RateLimitingInterface), keyed by strings
// ("namespace/name"):
//   - an item added while queued is not queued twice (dirty set);
//   - an item being processed (between get() and done()) is not handed to a second worker;
//     added meanwhile, it is queued again at done();
//   - addAfter() delays an item (the earliest time wins when it is already waiting);
//   - addRateLimited() delays it by the rate limiter (per-item exponential backoff and an
//     overall bucket by default); forget() clears its failures once it succeeded.
// After shutDown() adds are ignored, get() hands out what is queued, then returns nullopt.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "kubeapi/clock.h"
#include "kubeapi/rate_limiter.h"

namespace berth::kubeapi {

class WorkQueue {
 public:
  explicit WorkQueue(std::unique_ptr<RateLimiter> limiter = defaultControllerRateLimiter(),
                     Clock& clock = RealClock::instance());
  ~WorkQueue();

  void add(const std::string& item);
  void addAfter(const std::string& item, std::chrono::nanoseconds delay);
  void addRateLimited(const std::string& item);
  void forget(const std::string& item);
  int numRequeues(const std::string& item);

  // The next item; blocks until one is ready. nullopt once shut down and drained.
  std::optional<std::string> get();
  // Same, giving up after `timeout` (nullopt then too; check shuttingDown()).
  std::optional<std::string> get(std::chrono::milliseconds timeout);
  void done(const std::string& item);

  void shutDown();
  bool shuttingDown() const;
  // Items ready to be handed out (not the delayed ones).
  size_t len() const;

 private:
  void addLocked(const std::string& item);
  void promoteDueLocked();
  std::optional<std::string> getLocked(
      std::unique_lock<std::mutex>& lock,
      std::optional<std::chrono::steady_clock::time_point> deadline);

  std::unique_ptr<RateLimiter> limiter_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;
  std::set<std::string> processing_;
  std::map<std::string, Clock::TimePoint> waiting_;  // item -> when it is due
  bool shuttingDown_ = false;
};

}  // namespace berth::kubeapi
