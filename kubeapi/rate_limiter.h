#pragma once
// The work queue's rate limiters (client-go workqueue): how long an item waits before it is
// handed out again after a failure.
//   ItemExponentialRateLimiter  base * 2^failures per item, capped (5 ms .. 1000 s by default)
//   BucketRateLimiter           one token bucket for all items (10/s, burst 100 by default)
//   MaxOfRateLimiter            the longest of several
// defaultControllerRateLimiter() is client-go's DefaultControllerRateLimiter: the max of the
// first two with their defaults. A family of small policies behind one interface, kept in one
// header.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kubeapi/clock.h"
#include "kubeapi/token_bucket.h"

namespace berth::kubeapi {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `item` waits now; counts a failure where the limiter counts them.
  virtual std::chrono::nanoseconds when(const std::string& item) = 0;
  // The item succeeded: forget its failures.
  virtual void forget(const std::string& item) = 0;
  virtual int numRequeues(const std::string& item) = 0;
};

class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(std::chrono::nanoseconds base, std::chrono::nanoseconds max)
      : base_(base), max_(max) {}
  std::chrono::nanoseconds when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  std::chrono::nanoseconds base_, max_;
  std::mutex mu_;
  std::map<std::string, int> failures_;
};

class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, Clock& clock = RealClock::instance())
      : bucket_(qps, burst, clock) {}
  std::chrono::nanoseconds when(const std::string&) override { return bucket_.reserve(); }
  void forget(const std::string&) override {}
  int numRequeues(const std::string&) override { return 0; }

 private:
  TokenBucket bucket_;
};

class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}
  std::chrono::nanoseconds when(const std::string& item) override;
  void forget(const std::string& item) override;
  int numRequeues(const std::string& item) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(Clock& clock = RealClock::instance());

}  // namespace berth::kubeapi
