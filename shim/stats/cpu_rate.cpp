#include "shim/stats/cpu_rate.h"

namespace berth::cri::stats {

uint64_t CpuRateCache::update(const std::string& id, uint64_t usageCoreNanoSeconds,
                              int64_t timestamp) {
  std::lock_guard lock(mu_);
  auto [it, first] = samples_.try_emplace(id, Sample{timestamp, usageCoreNanoSeconds});
  if (first) return 0;
  Sample previous = it->second;
  int64_t interval = timestamp - previous.timestamp;
  // containerd keeps the old sample in these cases, so the next interval spans them.
  if (interval <= 0 || usageCoreNanoSeconds < previous.usage) return 0;
  it->second = Sample{timestamp, usageCoreNanoSeconds};
  // nanoseconds of CPU per second of wall time = nanocores
  return static_cast<uint64_t>(static_cast<double>(usageCoreNanoSeconds - previous.usage) /
                               static_cast<double>(interval) * 1e9);
}

void CpuRateCache::forget(const std::string& id) {
  std::lock_guard lock(mu_);
  samples_.erase(id);
}

void CpuRateCache::retain(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  std::erase_if(samples_, [&](const auto& entry) { return !live.contains(entry.first); });
}

size_t CpuRateCache::size() const {
  std::lock_guard lock(mu_);
  return samples_.size();
}

}  // namespace berth::cri::stats
