#pragma once
// ClusterIPs and NodePorts of Services (pkg/registry/core/service/ipallocator and portallocator,
// as the service REST storage applies them): addresses from --service-cluster-ip-range (one range
// per family, the first is the primary), ports from --service-node-port-range, the families and
// family policy defaulted, requested values checked, and what an update leaves unset kept.
//
// What is in use is read from the watch cache (every stored Service), plus the values handed out
// in the last minute that may not be stored yet, so two concurrent creates never get the same
// address. Nothing is persisted besides the Services themselves: a restart rebuilds the state.
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/ip.h"
#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/strategy.h"
#include "controlplane/storage/watch_cache.h"

namespace berth::controlplane::apiserver {

struct ServiceAllocatorConfig {
  std::vector<IpNet> serviceCidrs;  // one per family, primary first
  int nodePortMin = 30000;
  int nodePortMax = 32767;
};

// Parses "10.43.0.0/16[,fd00:43::/112]" and "30000-32767" with kube-apiserver's rules; the error
// names the flag.
[[nodiscard]] Result<ServiceAllocatorConfig> parseServiceAllocatorConfig(
    std::string_view clusterIpRange, std::string_view nodePortRange);

// The first address of each range: the `kubernetes` Service's.
std::vector<IpAddr> kubernetesServiceIps(const ServiceAllocatorConfig& config);

class ServiceAllocator {
 public:
  ServiceAllocator(ServiceAllocatorConfig config, const storage::WatchCache& cache);

  // Fills spec.clusterIP(s), ipFamilies, ipFamilyPolicy, nodePorts and healthCheckNodePort of a
  // Service being created (`old` null) or updated; a 422 names the field it refuses.
  [[nodiscard]] std::optional<ApiError> allocate(Json& service, const Json* old);

  std::vector<IpAddr> kubernetesServiceIps() const {
    return apiserver::kubernetesServiceIps(config_);
  }
  const ServiceAllocatorConfig& config() const { return config_; }

 private:
  struct InUse {
    std::set<IpAddr> ips;
    std::set<int> ports;
  };
  InUse inUse(const std::string& exceptKey) const;
  std::optional<IpAddr> pickIp(const IpNet& range, const std::set<IpAddr>& used);
  std::optional<int> pickPort(const std::set<int>& used);
  void reserveIp(const IpAddr& ip);
  void reservePort(int port);
  void expireReservations();

  ServiceAllocatorConfig config_;
  const storage::WatchCache& cache_;
  std::mutex mu_;  // one allocation at a time
  std::mt19937_64 rng_;
  std::map<IpAddr, std::chrono::steady_clock::time_point> reservedIps_;
  std::map<int, std::chrono::steady_clock::time_point> reservedPorts_;
};

}  // namespace berth::controlplane::apiserver
