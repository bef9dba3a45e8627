#pragma once
// berth-proxy's sync loop (kube-proxy's nftables Proxier): informers on Services, EndpointSlices
// and this node's Node only mark Services dirty; one thread runs sync() no more often than the
// minimum interval, every syncPeriod in full, at once (within the minimum interval, capped at
// 200 ms) when another program changed our tables, and again after a failure. Each Service's
// rules are kept, so a sync recomputes only the dirty ones; the difference from what was applied
// goes to the kernel as one transaction. /healthz and /metrics are served beside it.
//
// Starting with nothing applied, the first sync replaces whatever table it finds in one
// transaction (nft_plan.h): a restarted proxy never leaves a moment without rules, and it
// syncs only once both caches are full, so it never programs an empty cluster over a live one.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/http/server.h"
#include "common/nft_writer.h"
#include "kubeapi/meta_time.h"
#include "kubeapi/rest_client.h"
#include "kubeapi/shared_informer.h"
#include "proxy/nft_monitor.h"
#include "proxy/proxy_metrics.h"
#include "proxy/proxy_options.h"
#include "proxy/ruleset.h"

namespace berth::proxy {

struct ProxierOptions {
  std::string nodeName;
  ProxyConfig config;
  std::chrono::milliseconds syncPeriod{30'000};
  std::chrono::milliseconds minSyncPeriod{1'000};
  std::chrono::milliseconds configSyncPeriod{0};  // informer resync; 0: none
  std::optional<BindAddress> healthz;
  std::optional<BindAddress> metrics;
};

class Proxier {
 public:
  // The writer and the monitor are bound in the node's network namespace.
  Proxier(std::shared_ptr<kubeapi::RestClient> api, std::unique_ptr<nft::NftWriter> writer,
          std::unique_ptr<NftMonitor> monitor, ProxierOptions options);
  ~Proxier();

  [[nodiscard]] Status start();
  void stop();

  uint16_t healthzPort() const { return healthz_ ? healthz_->port() : 0; }
  uint16_t metricsPort() const { return metrics_ ? metrics_->port() : 0; }

 private:
  struct Health {
    bool healthy;
    std::string body;
  };

  void startInformers();
  [[nodiscard]] Status startServers();
  void onService(const kubeapi::ObjectPtr& obj);
  void onSlice(const kubeapi::ObjectPtr& oldObj, const kubeapi::ObjectPtr& newObj);
  void onNode(const kubeapi::ObjectPtr& obj);
  void markDirty(const std::string& serviceKey);
  void requestRepair();

  void syncLoop();
  // One sync of the Services in `dirty` (all of them when `full`). `repair`: our tables may
  // have been changed by someone else; replace them whole.
  [[nodiscard]] Status sync(std::set<std::string> dirty, bool full, bool repair);
  // A Service's rules: per port and family (4 or 6).
  using ServiceRules = std::vector<std::pair<int, ServicePortRules>>;
  ServiceRules rulesOf(const std::string& serviceKey, const NodeInfo& node) const;
  void replaceServiceRules(const std::string& serviceKey, ServiceRules rules);
  void recordProgrammingLatency(const std::set<std::string>& synced);
  Health health() const;

  std::shared_ptr<kubeapi::RestClient> api_;
  std::unique_ptr<nft::NftWriter> writer_;
  std::unique_ptr<NftMonitor> monitor_;
  ProxierOptions options_;
  ProxyMetrics stats_;

  std::unique_ptr<kubeapi::SharedInformer> services_, slices_, nodes_;
  std::unique_ptr<http::Server> healthz_, metrics_;

  // Written by the informers' and the monitor's threads, read by the sync thread.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> dirty_;  // Service keys "ns/name"
  bool allDirty_ = false;        // the node changed: every Service
  bool repair_ = false;
  bool overflowed_ = false;  // monitor events lost: replace the tables at the next full sync
  bool stopping_ = false;
  NodeInfo node_;
  bool nodeEligible_ = true;
  // The oldest EndpointSlice change trigger time not yet programmed, per Service.
  std::map<std::string, kubeapi::Time> triggerTimes_;
  // kube-proxy's healthz: a change queued longer than the timeout ago and not synced is unhealthy.
  std::optional<std::chrono::steady_clock::time_point> pendingSince_;
  std::optional<kubeapi::Time> lastUpdated_;

  // The sync thread's own.
  std::map<std::string, ServiceRules> rules_;  // by Service key
  std::vector<nft::Table> desired_;            // the base tables plus every rules_ entry
  std::vector<nft::Table> applied_;
  bool deferredChains_ = false;  // applied_ holds emptied chains the next sync deletes
  std::thread syncThread_;
};

}  // namespace berth::proxy
