#pragma once
// kube-controller-manager's flags that berth's controllers read (same names and defaults).
#include <chrono>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

struct ControllerOptions {
  // --controllers: "*" (the default set), a name to add, "-name" to remove.
  std::vector<std::string> controllers = {"*"};
  int concurrentSyncs = 5;  // --concurrent-*-syncs, one value for every controller
  std::string clusterCidr;  // --cluster-cidr (comma-separated dual-stack pair); "" = no IPAM
  int nodeCidrMaskSizeIpv4 = 24;
  int nodeCidrMaskSizeIpv6 = 64;
  std::string serviceClusterIpRange;  // --service-cluster-ip-range
  std::chrono::seconds nodeMonitorGracePeriod{40};
  std::chrono::seconds nodeMonitorPeriod{5};
  std::chrono::seconds nodeStartupGracePeriod{60};
  std::chrono::seconds podEvictionTimeout{
      300};                              // default tolerationSeconds (DefaultTolerationSeconds)
  int terminatedPodGcThreshold = 12500;  // 0: no limit
  std::chrono::seconds podGcPeriod{20};  // podgc's gcCheckPeriod (a constant upstream)
  std::chrono::minutes horizontalPodAutoscalerSyncPeriod{0};  // 0: 15 s
  std::string clusterName = "kubernetes";
};

}  // namespace berth::controlplane::controllers
