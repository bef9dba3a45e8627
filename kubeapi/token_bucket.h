#pragma once
// A token bucket as golang.org/x/time/rate's Limiter, which client-go uses for its client-side
// QPS/burst limit (flowcontrol.NewTokenBucketRateLimiter) and for the work queue's overall
// bucket: it starts full with `burst` tokens, refills at `qps` per second, and a reservation may
// take the bucket negative, its caller then waiting until the token would exist. Thread-safe.
#include <chrono>
#include <mutex>

#include "kubeapi/clock.h"

namespace berth::kubeapi {

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, Clock& clock = RealClock::instance());

  // Takes a token now and returns how long until it is available (zero: at once).
  std::chrono::nanoseconds reserve();
  // Takes a token only if one is available now.
  bool tryAccept();
  // reserve(), then sleeps that long on the clock.
  void wait();

  double qps() const { return qps_; }

 private:
  void advance(Clock::TimePoint now);

  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mu_;
  double tokens_;
  Clock::TimePoint last_;
};

}  // namespace berth::kubeapi
