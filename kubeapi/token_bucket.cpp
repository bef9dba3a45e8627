#include "kubeapi/token_bucket.h"

#include <algorithm>

namespace berth::kubeapi {

TokenBucket::TokenBucket(double qps, int burst, Clock& clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst), last_(clock.now()) {}

void TokenBucket::advance(Clock::TimePoint now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  std::lock_guard lock(mu_);
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();  // no limit
  advance(clock_.now());
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds::zero();
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / qps_ * 1e9));
}

bool TokenBucket::tryAccept() {
  std::lock_guard lock(mu_);
  if (qps_ <= 0) return true;
  advance(clock_.now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void TokenBucket::wait() {
  clock_.sleepFor(reserve());
}

}  // namespace berth::kubeapi
