#pragma once
// berth-proxy's /metrics in the Prometheus text format, with kube-proxy's metric names where it
// has them (pkg/proxy/metrics): the sync duration histogram, the last successful sync, the
// network programming latency (EndpointSlice change to rules in the kernel). The sizes of our
// tables are our own (berth_proxy_nftables_*). Thread-safe.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace berth::proxy {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double value);
  // "<name>_bucket{le=...} n" lines, _sum and _count (no HELP/TYPE).
  std::string render(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound, not cumulative
  uint64_t count_ = 0;
  double sum_ = 0;
};

struct TableSize {
  uint64_t chains = 0, rules = 0, sets = 0, elements = 0;
};

class ProxyMetrics {
 public:
  ProxyMetrics();
  void observeSync(double seconds, double unixTime, const TableSize& size);
  void observeSyncFailure();
  void observeNetworkProgramming(double seconds);
  void observeRestore();  // our table was repaired after someone else changed it
  std::string render() const;

 private:
  mutable std::mutex mu_;
  Histogram syncDuration_;
  Histogram networkProgramming_;
  double lastSyncUnix_ = 0;
  uint64_t syncFailures_ = 0;
  uint64_t restores_ = 0;
  TableSize size_;
};

}  // namespace berth::proxy
