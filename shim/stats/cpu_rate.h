#pragma once
// usage_nano_cores needs two samples: the last (timestamp, cumulative usage) per id, as
// containerd's CRI plugin keeps one in each container and sandbox record.

#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

namespace berth::cri::stats {

class CpuRateCache {
 public:
  // The rate in nanocores between the previous sample of `id` and this one, which replaces it.
  // 0 for the first sample, a non-positive interval, or a usage that went backwards (a container
  // that was just removed reads 0).
  uint64_t update(const std::string& id, uint64_t usageCoreNanoSeconds, int64_t timestamp);
  void forget(const std::string& id);
  // Forgets every id not in `live` (containers and pods removed since).
  void retain(const std::set<std::string>& live);
  size_t size() const;

 private:
  struct Sample {
    int64_t timestamp = 0;
    uint64_t usage = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Sample> samples_;
};

}  // namespace berth::cri::stats
