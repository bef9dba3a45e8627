#pragma once
// The clock seam of the client side (STYLE: Clock is injected): rate limiters, backoff, the
// reflector and the work queue read time and sleep through it, so their logic is tested with a
// fake clock and no real waiting.
#include <chrono>
#include <thread>

namespace berth::kubeapi {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual void sleepFor(std::chrono::nanoseconds d) = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  void sleepFor(std::chrono::nanoseconds d) override {
    if (d > std::chrono::nanoseconds::zero()) std::this_thread::sleep_for(d);
  }
  static RealClock& instance() {
    static RealClock clock;
    return clock;
  }
};

// For tests: time moves only when told to, or when someone sleeps (the sleep is recorded and
// returns at once).
class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void sleepFor(std::chrono::nanoseconds d) override {
    slept_ += d;
    if (d > std::chrono::nanoseconds::zero()) now_ += d;
  }
  void advance(std::chrono::nanoseconds d) { now_ += d; }
  std::chrono::nanoseconds slept() const { return slept_; }

 private:
  TimePoint now_{std::chrono::hours(1)};
  std::chrono::nanoseconds slept_{0};
};

}  // namespace berth::kubeapi
