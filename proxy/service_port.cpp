#include "proxy/service_port.h"

#include <algorithm>

#include <fmt/format.h>

#include "kubeapi/json_fields.h"

namespace berth::proxy {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

namespace {

// kube-proxy's default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours).
constexpr uint32_t kDefaultAffinitySeconds = 10800;

Result<Protocol> protocolOf(const json& object, const std::string& where) {
  std::string p = jsonString(object, "protocol", "TCP");
  if (p == "TCP") return Protocol::kTcp;
  if (p == "UDP") return Protocol::kUdp;
  if (p == "SCTP") return Protocol::kSctp;
  return fail(Code::kInvalidArgument, "{}.protocol: unsupported protocol \"{}\"", where, p);
}

Result<uint16_t> portOf(const json& object, std::string_view key, const std::string& where,
                        bool required) {
  const json& v = jsonField(object, key);
  if (v.is_null() && !required) return uint16_t{0};
  if (!v.is_number_integer() || v.get<int64_t>() < (required ? 1 : 0) || v.get<int64_t>() > 65535)
    return fail(Code::kInvalidArgument, "{}.{}: invalid port {}", where, key, v.dump());
  return static_cast<uint16_t>(v.get<int64_t>());
}

Result<IpAddr> ipOf(const json& v, const std::string& where) {
  auto ip = v.is_string() ? IpAddr::parse(v.get<std::string>()) : std::nullopt;
  if (!ip) return fail(Code::kInvalidArgument, "{}: invalid IP address {}", where, v.dump());
  return *ip;
}

Result<std::vector<IpAddr>> ipsOf(const json& list, const std::string& where) {
  std::vector<IpAddr> out;
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(BERTH_TRY(ipOf(list[i], fmt::format("{}[{}]", where, i))));
  return out;
}

std::vector<IpAddr> ofFamily(const std::vector<IpAddr>& ips, int family) {
  std::vector<IpAddr> out;
  std::copy_if(ips.begin(), ips.end(), std::back_inserter(out),
               [&](const IpAddr& ip) { return ip.family() == family; });
  return out;
}

// status.loadBalancer.ingress[].ip, without those whose ipMode is Proxy (the load balancer
// delivers to the node with its own address as destination, so nothing is captured here).
Result<std::vector<IpAddr>> loadBalancerIps(const json& service) {
  const json& ingress =
      jsonArray(jsonField(jsonField(service, "status"), "loadBalancer"), "ingress");
  std::vector<IpAddr> out;
  for (size_t i = 0; i < ingress.size(); ++i) {
    if (jsonString(ingress[i], "ipMode") == "Proxy" || jsonString(ingress[i], "ip").empty())
      continue;
    out.push_back(
        BERTH_TRY(ipOf(ingress[i]["ip"], fmt::format("status.loadBalancer.ingress[{}].ip", i))));
  }
  return out;
}

}  // namespace

std::string_view protocolName(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "?";
}

std::string ServicePortName::str() const {
  return port.empty() ? fmt::format("{}/{}", ns, name) : fmt::format("{}/{}:{}", ns, name, port);
}

std::string Endpoint::str() const {
  return ip.isV6() ? fmt::format("[{}]:{}", ip.str(), port) : fmt::format("{}:{}", ip.str(), port);
}

Result<std::vector<ServicePort>> servicePortsOf(const json& service) {
  const json& meta = jsonField(service, "metadata");
  const json& spec = jsonField(service, "spec");
  std::string type = jsonString(spec, "type", "ClusterIP");
  if (type == "ExternalName") return std::vector<ServicePort>{};
  std::vector<IpAddr> clusterIps;
  const json& listed = jsonArray(spec, "clusterIPs");
  if (!listed.empty() && listed[0] == "None") return std::vector<ServicePort>{};
  if (!listed.empty()) {
    clusterIps = BERTH_TRY(ipsOf(listed, "spec.clusterIPs"));
  } else {
    std::string one = jsonString(spec, "clusterIP");
    if (one.empty() || one == "None") return std::vector<ServicePort>{};
    clusterIps.push_back(BERTH_TRY(ipOf(spec["clusterIP"], "spec.clusterIP")));
  }
  std::vector<IpAddr> externalIps =
      BERTH_TRY(ipsOf(jsonArray(spec, "externalIPs"), "spec.externalIPs"));
  std::vector<IpAddr> lbIps = BERTH_TRY(loadBalancerIps(service));
  std::vector<IpNet> sourceRanges;
  const json& ranges = jsonArray(spec, "loadBalancerSourceRanges");
  for (size_t i = 0; i < ranges.size(); ++i) {
    auto net = ranges[i].is_string() ? IpNet::parse(ranges[i].get<std::string>()) : std::nullopt;
    if (!net)
      return fail(Code::kInvalidArgument, "spec.loadBalancerSourceRanges[{}]: invalid CIDR {}", i,
                  ranges[i].dump());
    sourceRanges.push_back(net->canonical());
  }
  // kube-proxy: externalTrafficPolicy applies only to Services reachable from outside.
  bool external = type == "NodePort" || type == "LoadBalancer" || !externalIps.empty();
  bool etpLocal = external && jsonString(spec, "externalTrafficPolicy") == "Local";
  bool itpLocal = jsonString(spec, "internalTrafficPolicy") == "Local";
  std::optional<uint32_t> affinity;
  if (jsonString(spec, "sessionAffinity") == "ClientIP") {
    const json& t = jsonField(jsonField(jsonField(spec, "sessionAffinityConfig"), "clientIP"),
                              "timeoutSeconds");
    affinity = t.is_number_unsigned() && t.get<uint64_t>() > 0 ? t.get<uint32_t>()
                                                               : kDefaultAffinitySeconds;
  }
  uint16_t healthCheck = BERTH_TRY(portOf(spec, "healthCheckNodePort", "spec", false));

  std::vector<ServicePort> out;
  const json& ports = jsonArray(spec, "ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string where = fmt::format("spec.ports[{}]", i);
    ServicePortName name{jsonString(meta, "namespace", "default"), jsonString(meta, "name"),
                         jsonString(ports[i], "name"), BERTH_TRY(protocolOf(ports[i], where))};
    uint16_t port = BERTH_TRY(portOf(ports[i], "port", where, true));
    uint16_t nodePort = type == "NodePort" || type == "LoadBalancer"
                            ? BERTH_TRY(portOf(ports[i], "nodePort", where, false))
                            : uint16_t{0};
    for (const IpAddr& cip : clusterIps) {
      ServicePort sp;
      sp.name = name;
      sp.family = cip.family();
      sp.clusterIp = cip;
      sp.port = port;
      sp.nodePort = nodePort;
      sp.externalIps = ofFamily(externalIps, sp.family);
      sp.loadBalancerIps = ofFamily(lbIps, sp.family);
      for (const IpNet& r : sourceRanges) {
        if (r.ip().family() == sp.family) sp.loadBalancerSourceRanges.push_back(r);
      }
      sp.externalPolicyLocal = etpLocal;
      sp.internalPolicyLocal = itpLocal;
      sp.affinitySeconds = affinity;
      sp.healthCheckNodePort = etpLocal ? healthCheck : uint16_t{0};
      out.push_back(std::move(sp));
    }
  }
  return out;
}

Status addEndpointSlice(const json& slice, EndpointsMap& map) {
  const json& meta = jsonField(slice, "metadata");
  std::string service = jsonString(jsonField(meta, "labels"), "kubernetes.io/service-name");
  if (service.empty())
    return fail(Code::kInvalidArgument, "metadata.labels: no kubernetes.io/service-name");
  std::string addressType = jsonString(slice, "addressType");
  int family = addressType == "IPv4" ? 4 : addressType == "IPv6" ? 6 : 0;
  if (family == 0) return {};  // FQDN slices are not for proxies

  std::vector<Endpoint> endpoints;
  const json& items = jsonArray(slice, "endpoints");
  for (size_t i = 0; i < items.size(); ++i) {
    const json& addresses = jsonArray(items[i], "addresses");
    if (addresses.empty()) continue;
    // kube-proxy uses the first address: the others are for consumers that need them all.
    Endpoint e;
    e.ip = BERTH_TRY(ipOf(addresses[0], fmt::format("endpoints[{}].addresses[0]", i)));
    if (e.ip.family() != family) continue;
    const json& cond = jsonField(items[i], "conditions");
    e.ready = kubeapi::jsonBool(cond, "ready", true);
    e.serving = kubeapi::jsonBool(cond, "serving", e.ready);
    e.terminating = kubeapi::jsonBool(cond, "terminating", false);
    e.nodeName = jsonString(items[i], "nodeName");
    e.zone = jsonString(items[i], "zone");
    for (const json& z : jsonArray(jsonField(items[i], "hints"), "forZones"))
      e.zoneHints.push_back(jsonString(z, "name"));
    endpoints.push_back(std::move(e));
  }
  const json& ports = jsonArray(slice, "ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string where = fmt::format("ports[{}]", i);
    if (jsonField(ports[i], "port").is_null()) continue;  // "all ports": not for proxies
    EndpointsKey key{{jsonString(meta, "namespace", "default"), service,
                      jsonString(ports[i], "name"), BERTH_TRY(protocolOf(ports[i], where))},
                     family};
    uint16_t port = BERTH_TRY(portOf(ports[i], "port", where, true));
    std::vector<Endpoint>& list = map[key];
    for (Endpoint e : endpoints) {
      e.port = port;
      bool dup = std::any_of(list.begin(), list.end(),
                             [&](const Endpoint& o) { return o.ip == e.ip && o.port == e.port; });
      if (!dup) list.push_back(std::move(e));
    }
  }
  return {};
}

NodeInfo nodeInfoOf(const json& node) {
  const json& meta = jsonField(node, "metadata");
  return {jsonString(meta, "name"),
          jsonString(jsonField(meta, "labels"), "topology.kubernetes.io/zone")};
}

}  // namespace berth::proxy
