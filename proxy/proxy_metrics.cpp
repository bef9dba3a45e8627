#include "proxy/proxy_metrics.h"

#include <fmt/format.h>

#include "kubeapi/go_format.h"

namespace berth::proxy {

namespace {

// prometheus.ExponentialBuckets(0.001, 2, 15): kube-proxy's SyncProxyRulesLatency.
std::vector<double> syncBuckets() {
  std::vector<double> b;
  for (double v = 0.001; b.size() < 15; v *= 2)
    b.push_back(v);
  return b;
}

// kube-proxy's NetworkProgrammingLatency buckets: 0.25 s steps to 0.5, 1 s to 59, 5 s to 115,
// 10 s to 410.
std::vector<double> programmingBuckets() {
  std::vector<double> b{0.25, 0.5};
  for (int i = 1; i <= 59; ++i)
    b.push_back(i);
  for (int i = 0; i < 12; ++i)
    b.push_back(60 + 5 * i);
  for (int i = 0; i < 12; ++i)
    b.push_back(300 + 10 * i);
  return b;
}

}  // namespace

Histogram::Histogram(std::vector<double> upperBounds)
    : bounds_(std::move(upperBounds)), counts_(bounds_.size(), 0) {}

void Histogram::observe(double value) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  }
  ++count_;
  sum_ += value;
}

std::string Histogram::render(const std::string& name) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out +=
        fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kubeapi::goFloat(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name,
                     kubeapi::goFloat(sum_), name, count_);
  return out;
}

ProxyMetrics::ProxyMetrics()
    : syncDuration_(syncBuckets()), networkProgramming_(programmingBuckets()) {}

void ProxyMetrics::observeSync(double seconds, double unixTime, const TableSize& size) {
  std::lock_guard lock(mu_);
  syncDuration_.observe(seconds);
  lastSyncUnix_ = unixTime;
  size_ = size;
}

void ProxyMetrics::observeSyncFailure() {
  std::lock_guard lock(mu_);
  ++syncFailures_;
}

void ProxyMetrics::observeNetworkProgramming(double seconds) {
  std::lock_guard lock(mu_);
  networkProgramming_.observe(seconds);
}

void ProxyMetrics::observeRestore() {
  std::lock_guard lock(mu_);
  ++restores_;
}

std::string ProxyMetrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out +=
      "# HELP kubeproxy_sync_proxy_rules_duration_seconds [ALPHA] SyncProxyRules latency in "
      "seconds\n# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram\n";
  out += syncDuration_.render("kubeproxy_sync_proxy_rules_duration_seconds");
  out += fmt::format(
      "# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds [ALPHA] The last time proxy "
      "rules were successfully synced\n"
      "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n"
      "kubeproxy_sync_proxy_rules_last_timestamp_seconds {}\n",
      kubeapi::goFloat(lastSyncUnix_));
  out +=
      "# HELP kubeproxy_network_programming_duration_seconds [ALPHA] In Cluster Network "
      "Programming Latency in seconds\n"
      "# TYPE kubeproxy_network_programming_duration_seconds histogram\n";
  out += networkProgramming_.render("kubeproxy_network_programming_duration_seconds");
  out += fmt::format(
      "# HELP kubeproxy_sync_proxy_rules_nftables_sync_failures_total [ALPHA] cumulative proxy "
      "nftables sync failures\n"
      "# TYPE kubeproxy_sync_proxy_rules_nftables_sync_failures_total counter\n"
      "kubeproxy_sync_proxy_rules_nftables_sync_failures_total {}\n"
      "# HELP berth_proxy_nftables_restores_total Times our tables were restored after another "
      "program changed them\n"
      "# TYPE berth_proxy_nftables_restores_total counter\n"
      "berth_proxy_nftables_restores_total {}\n",
      syncFailures_, restores_);
  for (auto [kind, value] :
       {std::pair{"chains", size_.chains}, std::pair{"rules", size_.rules},
        std::pair{"sets", size_.sets}, std::pair{"elements", size_.elements}}) {
    out += fmt::format(
        "# HELP berth_proxy_nftables_{0} {0} in the proxy's tables after the last sync\n"
        "# TYPE berth_proxy_nftables_{0} gauge\nberth_proxy_nftables_{0} {1}\n",
        kind, value);
  }
  return out;
}

}  // namespace berth::proxy
