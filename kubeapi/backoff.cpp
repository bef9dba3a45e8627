#include "kubeapi/backoff.h"

#include <algorithm>

namespace berth::kubeapi {

Backoff::Backoff(BackoffPolicy policy, Clock& clock)
    : policy_(policy), clock_(clock), rng_(std::random_device{}()) {}

std::chrono::nanoseconds Backoff::next() {
  auto now = clock_.now();
  if (current_ == std::chrono::nanoseconds::zero() || now - lastStep_ > policy_.resetAfter) {
    current_ = policy_.initial;
  } else {
    current_ = std::min(policy_.cap, std::chrono::nanoseconds(static_cast<long long>(
                                         static_cast<double>(current_.count()) * policy_.factor)));
  }
  lastStep_ = now;
  auto wait = current_;
  if (policy_.jitter > 0) {
    std::uniform_real_distribution<double> dist(0, policy_.jitter);
    wait += std::chrono::nanoseconds(
        static_cast<long long>(static_cast<double>(current_.count()) * dist(rng_)));
  }
  return wait;
}

void Backoff::reset() {
  current_ = std::chrono::nanoseconds::zero();
}

void Backoff::sleep() {
  auto d = next();
  clock_.sleepFor(d);
  // Count the quiet period from the end of the sleep.
  lastStep_ = clock_.now();
}

}  // namespace berth::kubeapi
