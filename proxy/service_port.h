#pragma once
// The proxy's model of the API objects it watches: each Service port of one IP family with what
// traffic reaches it (ClusterIP, NodePort, externalIPs, LoadBalancer ingress) and its policies,
// and the endpoints EndpointSlices give it. Built from the objects' JSON (kept as JSON elsewhere,
// kubeapi/); invalid objects are errors naming the field, as kube-proxy skips and logs them.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/ip.h"
#include "common/result.h"

namespace berth::proxy {

// IPPROTO_* values.
enum class Protocol : uint8_t { kTcp = 6, kUdp = 17, kSctp = 132 };
std::string_view protocolName(Protocol p);  // "tcp", "udp", "sctp" (nft's and the chains')

// kube-proxy's ServicePortName: namespace, name, the port's name, and its protocol.
struct ServicePortName {
  std::string ns;
  std::string name;
  std::string port;  // the port's name, "" for a Service's only unnamed port
  Protocol protocol = Protocol::kTcp;
  // "ns/name:port" (or "ns/name"), as kube-proxy prints it in comments.
  std::string str() const;
  auto operator<=>(const ServicePortName&) const = default;
};

// One port of a Service in one IP family (a dual-stack Service gives one per family).
struct ServicePort {
  ServicePortName name;
  int family = 4;  // 4 or 6
  IpAddr clusterIp;
  uint16_t port = 0;
  uint16_t nodePort = 0;                // 0 when none
  std::vector<IpAddr> externalIps;      // of this family
  std::vector<IpAddr> loadBalancerIps;  // status.loadBalancer.ingress[].ip of this family
  std::vector<IpNet> loadBalancerSourceRanges;
  bool externalPolicyLocal = false;  // externalTrafficPolicy: Local (and reachable from outside)
  bool internalPolicyLocal = false;  // internalTrafficPolicy: Local
  std::optional<uint32_t> affinitySeconds;  // sessionAffinity: ClientIP
  uint16_t healthCheckNodePort = 0;

  bool externallyAccessible() const {
    return nodePort != 0 || !externalIps.empty() || !loadBalancerIps.empty();
  }
  // kube-proxy's UsesClusterEndpoints / UsesLocalEndpoints: a port reachable from outside uses
  // Cluster endpoints even with both policies Local (pods and the node short-circuit to them).
  bool usesClusterEndpoints() const { return !internalPolicyLocal || externallyAccessible(); }
  bool usesLocalEndpoints() const {
    return internalPolicyLocal || (externallyAccessible() && externalPolicyLocal);
  }
  bool operator==(const ServicePort&) const = default;
};

struct Endpoint {
  IpAddr ip;
  uint16_t port = 0;
  // EndpointConditions: an absent ready reads as true, an absent serving as ready.
  bool ready = true;
  bool serving = true;
  bool terminating = false;
  std::string nodeName;
  std::string zone;
  std::vector<std::string> zoneHints;  // hints.forZones[].name
  bool local = false;                  // nodeName is this node (set when categorized)

  std::string str() const;  // "10.1.0.5:8080", "[fd00::5]:8080"
  bool operator==(const Endpoint&) const = default;
};

// Endpoints of each Service port of one family, across all of the Service's slices.
struct EndpointsKey {
  ServicePortName name;
  int family = 4;
  auto operator<=>(const EndpointsKey&) const = default;
};
using EndpointsMap = std::map<EndpointsKey, std::vector<Endpoint>>;

// The Service's ports for each of its families. ExternalName Services and headless ones
// (clusterIP None) have none: the proxy does not handle them, as upstream.
[[nodiscard]] Result<std::vector<ServicePort>> servicePortsOf(const nlohmann::json& service);

// Adds a discovery.k8s.io/v1 EndpointSlice's endpoints to `map` (its Service is the
// kubernetes.io/service-name label). FQDN slices are ignored; an endpoint already present from
// another slice (same address and port) is not added twice.
[[nodiscard]] Status addEndpointSlice(const nlohmann::json& slice, EndpointsMap& map);

// The node as the proxy sees it: its name (which endpoints are local) and its zone label.
struct NodeInfo {
  std::string name;
  std::string zone;  // topology.kubernetes.io/zone
};
NodeInfo nodeInfoOf(const nlohmann::json& node);

}  // namespace berth::proxy
