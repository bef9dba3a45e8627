#pragma once
// Exponential backoff with jitter and a cap (wait.Backoff's Duration/Factor/Jitter/Cap as
// client-go uses them for request retries and the reflector's re-list/re-watch), and a reset
// after a quiet period (the reflector's backoff manager resets once things went well for a
// while).
#include <chrono>
#include <random>

#include "kubeapi/clock.h"

namespace berth::kubeapi {

struct BackoffPolicy {
  std::chrono::nanoseconds initial = std::chrono::milliseconds(800);
  double factor = 2.0;
  double jitter = 1.0;  // each step waits up to (1 + jitter) times the base
  std::chrono::nanoseconds cap = std::chrono::seconds(30);
  // The step goes back to `initial` when the previous step was longer ago than this.
  std::chrono::nanoseconds resetAfter = std::chrono::minutes(2);
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}, Clock& clock = RealClock::instance());

  // The next wait: initial, initial*factor, ... up to cap, each with jitter.
  std::chrono::nanoseconds next();
  void reset();
  // next(), then sleeps it on the clock.
  void sleep();

 private:
  BackoffPolicy policy_;
  Clock& clock_;
  std::chrono::nanoseconds current_{0};
  Clock::TimePoint lastStep_{};
  std::mt19937_64 rng_;
};

}  // namespace berth::kubeapi
