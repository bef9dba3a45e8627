#pragma once
// Which endpoints a Service port's traffic may go to from this node: kube-proxy's
// CategorizeEndpoints (pkg/proxy/topology.go), with its fallback to serving-terminating
// endpoints when no ready one is left and topology-aware hints.

#include <vector>

#include "proxy/service_port.h"

namespace berth::proxy {

struct CategorizedEndpoints {
  std::vector<Endpoint> cluster;       // for Cluster traffic policy
  std::vector<Endpoint> local;         // for Local traffic policy
  std::vector<Endpoint> allReachable;  // the union: the endpoint chains to create
  bool hasAny = false;                 // usable endpoints anywhere in the cluster
};

// Endpoints come in any order; each list comes out sorted by address and port, so an endpoint
// keeps its position (its numgen index) while others come and go around it.
CategorizedEndpoints categorizeEndpoints(std::vector<Endpoint> endpoints, const ServicePort& port,
                                         const NodeInfo& node, bool topologyHints);

}  // namespace berth::proxy
