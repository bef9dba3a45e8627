#pragma once
// The objects that bring pods to cluster DNS, as a CoreDNS install has them: the Service
// kube-system/kube-dns on the ClusterIP the kubelets' --cluster-dns names, and, since ClusterDns
// runs on the node rather than in a pod, an EndpointSlice of ours pointing that Service at the
// node address it listens on. The service proxy then DNATs <clusterIP>:53 there, as it would to
// CoreDNS pods. The Service has no selector, so the EndpointSlice controller leaves the slice be.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::dns {

// ClusterIPs: one, or one per family (dual-stack, IPv4 first as the API orders them); port 53
// targets `targetPort`, the port ClusterDns listens on.
nlohmann::json kubeDnsService(const std::vector<std::string>& clusterIps, int targetPort);

// The slice of one node's ClusterDns: `addressType` IPv4 or IPv6, its address of that family,
// the port it listens on (Service port 53 targets it, UDP and TCP).
nlohmann::json kubeDnsEndpointSlice(const std::string& nodeName, const std::string& addressType,
                                    const std::string& nodeAddress, int port);

}  // namespace berth::dns
