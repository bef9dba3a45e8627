#pragma once
// Cluster DNS for `berth up` and berth-dns: a controller on the shared informers of Services and
// EndpointSlices that keeps Unbound (a child process it owns) answering the cluster's records
// (dns/records.h) and forwarding every other name to the node's resolvers.
//
// Events only mark the records dirty; one thread syncs no more often than minSyncPeriod and in
// full every syncPeriod (rereading resolv.conf, restarting Unbound if it died). A sync renders
// the whole configuration from the caches and, when it changed, writes it and has Unbound
// reload it without dropping its cache of forwarded answers.
//
// State dir layout:
//   <stateDir>/unbound.conf   the rendered configuration (dns/unbound_config.h)
//   <stateDir>/control.sock   Unbound's control socket (unbound-control -c unbound.conf ...)
//   <stateDir>/unbound.pid    the pid of the Unbound we started, so a restart stops a stale one
//   <stateDir>/unbound.log    its output
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.h"
#include "common/result.h"
#include "dns/unbound_config.h"

namespace berth::kubeapi {
class InformerFactory;
class SharedInformer;
}  // namespace berth::kubeapi

namespace berth::dns {

struct ClusterDnsOptions {
  std::string domain = "cluster.local";
  std::string listenAddress = "127.0.0.1";  // IPv4 or IPv6; never a wildcard
  int port = 53;
  std::string resolvConf = "/etc/resolv.conf";  // the upstream resolvers
  std::vector<std::string> allowFrom;           // client CIDRs (UnboundSettings); empty: all
  // More addresses that reach this server at port 53 (the kube-dns Service's ClusterIPs when
  // listening on the node address behind it): never forwarded to. The listen address at port
  // 53 always counts.
  std::vector<std::string> selfAddresses;
  std::string stateDir = "/run/berth/dns";
  std::string unboundPath = "unbound";  // unbound-control is taken from the same directory
  std::chrono::milliseconds minSyncPeriod{1'000};
  std::chrono::milliseconds syncPeriod{30'000};
};

class ClusterDns {
 public:
  // Registers its informers on `informers`; the caller starts the factory (before or after
  // start()) and keeps it alive until stop().
  ClusterDns(kubeapi::InformerFactory& informers, ClusterDnsOptions options);
  ~ClusterDns();
  ClusterDns(const ClusterDns&) = delete;
  ClusterDns& operator=(const ClusterDns&) = delete;

  // Starts Unbound (forwarding at once; cluster names are NXDOMAIN until the caches are full)
  // and the sync thread. Fails when Unbound can't serve, naming why (its log's last lines).
  [[nodiscard]] Status start();
  // Stops the sync thread and Unbound. Idempotent.
  void stop();

 private:
  // Shared with the informer handlers, which may outlive this object.
  struct Trigger {
    std::mutex mu;
    std::condition_variable cv;
    bool dirty = true;
    bool stopping = false;
    void mark();
  };

  std::string configPath() const;
  [[nodiscard]] std::string renderConfig(bool withRecords) const;
  [[nodiscard]] Status startUnbound(const std::string& config);
  void stopStaleUnbound() const;
  [[nodiscard]] Status control(const std::string& command) const;
  [[nodiscard]] Status sync();
  void syncLoop();

  ClusterDnsOptions options_;
  UnboundSettings settings_;
  std::shared_ptr<Trigger> trigger_ = std::make_shared<Trigger>();  // before the informers
  kubeapi::SharedInformer& services_;
  kubeapi::SharedInformer& slices_;
  ChildProcess unbound_;
  std::string applied_;  // the configuration the running Unbound has loaded
  std::thread thread_;
};

}  // namespace berth::dns
