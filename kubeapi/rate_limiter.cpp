#include "kubeapi/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace berth::kubeapi {

std::chrono::nanoseconds ItemExponentialRateLimiter::when(const std::string& item) {
  std::lock_guard lock(mu_);
  int exp = failures_[item]++;
  double backoff = static_cast<double>(base_.count()) * std::pow(2.0, exp);
  if (backoff > static_cast<double>(max_.count())) return max_;
  return std::chrono::nanoseconds(static_cast<long long>(backoff));
}

void ItemExponentialRateLimiter::forget(const std::string& item) {
  std::lock_guard lock(mu_);
  failures_.erase(item);
}

int ItemExponentialRateLimiter::numRequeues(const std::string& item) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

std::chrono::nanoseconds MaxOfRateLimiter::when(const std::string& item) {
  std::chrono::nanoseconds longest{0};
  for (auto& l : limiters_)
    longest = std::max(longest, l->when(item));
  return longest;
}

void MaxOfRateLimiter::forget(const std::string& item) {
  for (auto& l : limiters_)
    l->forget(item);
}

int MaxOfRateLimiter::numRequeues(const std::string& item) {
  int most = 0;
  for (auto& l : limiters_)
    most = std::max(most, l->numRequeues(item));
  return most;
}

std::unique_ptr<RateLimiter> defaultControllerRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5),
                                                                  std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace berth::kubeapi
