#include "kubelet/restart_backoff.h"

#include <algorithm>

namespace berth::kubelet {

RestartBackoff::RestartBackoff(std::chrono::seconds initial, std::chrono::seconds cap, Now now)
    : initial_(initial), cap_(cap), now_(std::move(now)) {}

bool RestartBackoff::inBackoffSince(const std::string& key, TimePoint eventTime) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, eventTime)) return false;
  return now_() - eventTime < it->second.backoff;
}

bool RestartBackoff::inBackoffSinceUpdate(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it != entries_.end() && now_() - it->second.lastUpdate < it->second.backoff;
}

std::chrono::seconds RestartBackoff::current(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? std::chrono::seconds(0) : it->second.backoff;
}

void RestartBackoff::next(const std::string& key, TimePoint eventTime) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || expired(it->second, eventTime)) {
    entries_[key] = {initial_, now_()};
    return;
  }
  it->second.backoff = std::min(it->second.backoff * 2, cap_);
  it->second.lastUpdate = now_();
}

void RestartBackoff::gc() {
  std::lock_guard lock(mu_);
  const TimePoint now = now_();
  std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.lastUpdate > 2 * cap_; });
}

}  // namespace berth::kubelet
