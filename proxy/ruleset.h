#pragma once
// computeRuleset: the desired nftables tables of the service proxy, a pure function of the
// Service ports, their endpoints, the node and the configuration. The layout is kube-proxy's
// nftables mode (pkg/proxy/nftables/proxier.go), so its readers can read ours:
//   - one table per family, "berth-proxy" in `ip` and in `ip6` (kube-proxy's split, and its
//     names verbatim in each; both go to the kernel in one transaction);
//   - base chains filter-{prerouting,input,forward,output} at dstnat-10, nat-{prerouting,output}
//     at dstnat, nat-postrouting at srcnat;
//   - dispatch through the verdict maps service-ips (address . protocol . port) and
//     service-nodeports (protocol . port); no-endpoint-services / no-endpoint-nodeports send to
//     reject-chain (or drop for a Local policy without local endpoints); firewall-ips for
//     loadBalancerSourceRanges;
//   - per Service port the chains service-/local-/external-/firewall-<HASH>-ns/name/proto/port,
//     per endpoint endpoint-<HASH>-ns/name/proto/port__addr/port, affinity-<same> sets;
//   - endpoint choice is `numgen random mod N vmap @<policy chain's name>`: a named map per
//     policy chain (sets and chains have separate namespaces) where kube-proxy writes an
//     anonymous one, so an endpoint replaced is one element changed, not a rule rewritten.
// A sync loop keeps each Service port's ServicePortRules and recomputes only the dirty ones.

#include <string>
#include <vector>

#include "common/ip.h"
#include "common/nft_ruleset.h"
#include "proxy/service_port.h"

namespace berth::proxy {

struct ProxyConfig {
  std::string tableName = "berth-proxy";
  uint32_t masqueradeMark = 1u << 14;  // kube-proxy's --iptables-masquerade-bit 14
  bool masqueradeAll = false;
  // --cluster-cidr: ClusterIP traffic from outside these is masqueraded (one per family is
  // used, as kube-proxy's detect-local mode ClusterCIDR). Empty: no local-traffic detection.
  std::vector<IpNet> clusterCidrs;
  // --nodeport-addresses resolved to this node's addresses; empty: every local address.
  std::vector<IpAddr> nodePortAddresses;
  bool topologyHints = true;
};

// "<HASH>-ns/name/proto/portname" and "<HASH>-ns/name/proto/portname__addr/port": kube-proxy's
// servicePortChainNameBase / servicePortEndpointChainNameBase.
std::string servicePortChainBase(const ServicePortName& name);
std::string endpointChainBase(const ServicePortName& name, const Endpoint& endpoint);

// What one Service port adds to its family's table.
struct ServicePortRules {
  std::vector<nft::Chain> chains;
  std::vector<nft::Set> sets;  // endpoint maps and affinity sets, with their elements
  std::vector<std::pair<std::string, nft::Element>> elements;  // into the table's shared maps
  bool operator==(const ServicePortRules&) const = default;
};

ServicePortRules computeServicePortRules(const ServicePort& port,
                                         const std::vector<Endpoint>& endpoints,
                                         const NodeInfo& node, const ProxyConfig& config);

// The table of `family` (4 or 6) with its base chains, shared chains, maps and sets, and no
// Service in it.
nft::Table baseTable(int family, const ProxyConfig& config);
void addServicePortRules(nft::Table& table, const ServicePortRules& rules);

// Both tables (ip, then ip6).
std::vector<nft::Table> computeRuleset(const std::vector<ServicePort>& ports,
                                       const EndpointsMap& endpoints, const NodeInfo& node,
                                       const ProxyConfig& config);

}  // namespace berth::proxy
