#include "dns/records.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/ip.h"
#include "kubeapi/json_fields.h"

namespace berth::dns {
namespace {

using kubeapi::jsonArray;
using kubeapi::jsonBool;
using kubeapi::jsonField;
using kubeapi::jsonString;

constexpr std::string_view kServiceNameLabel = "kubernetes.io/service-name";

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string absolute(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return lower(std::move(name));
}

std::vector<PortInfo> portsOf(const nlohmann::json& ports) {
  std::vector<PortInfo> out;
  for (const auto& p : ports) {
    const auto& port = jsonField(p, "port");
    out.push_back({jsonString(p, "name"), jsonString(p, "protocol", "TCP"),
                   port.is_number_integer() ? port.get<int>() : 0});
  }
  return out;
}

void addAddress(const std::string& name, const IpAddr& ip, RecordSet& out) {
  out.insert({name, ip.isV4() ? "A" : "AAAA", ip.str()});
}

void addPtr(const IpAddr& ip, const std::string& target, RecordSet& out) {
  out.insert({reverseName(ip.str()), "PTR", target});
}

std::string srvName(const PortInfo& port, const std::string& serviceFqdn) {
  return lower(fmt::format("_{}._{}.{}", port.name, port.protocol, serviceFqdn));
}

// Weights share 100 among the targets of one name, as CoreDNS does.
void addSrv(const std::string& name, const std::vector<std::pair<int, std::string>>& targets,
            RecordSet& out) {
  const int weight = std::max<int>(1, 100 / static_cast<int>(std::max<size_t>(1, targets.size())));
  for (const auto& [port, target] : targets)
    out.insert({name, "SRV", fmt::format("0 {} {} {}", weight, port, target)});
}

// An endpoint's own name under its Service: its hostname, else its address with '.'/':' as '-'.
std::string endpointLabel(const EndpointInfo& ep, const IpAddr& ip) {
  if (!ep.hostname.empty()) return ep.hostname;
  std::string label = ip.str();
  std::ranges::replace(label, '.', '-');
  std::ranges::replace(label, ':', '-');
  return label;
}

void addClusterIpRecords(const ServiceInfo& s, const std::string& fqdn, RecordSet& out) {
  bool any = false;
  for (const auto& text : s.clusterIPs) {
    auto ip = IpAddr::parse(text);
    if (!ip) continue;
    any = true;
    addAddress(fqdn, *ip, out);
    addPtr(*ip, fqdn, out);
  }
  if (!any) return;
  for (const auto& port : s.ports) {
    if (!port.name.empty()) addSrv(srvName(port, fqdn), {{port.port, fqdn}}, out);
  }
}

void addHeadlessRecords(const ServiceInfo& s, const std::string& fqdn,
                        const std::vector<SliceInfo>& slices, RecordSet& out) {
  std::map<std::string, std::vector<std::pair<int, std::string>>> srvTargets;
  for (const auto& slice : slices) {
    if (slice.addressType != "IPv4" && slice.addressType != "IPv6") continue;
    for (const auto& ep : slice.endpoints) {
      if (!ep.ready && !s.publishNotReadyAddresses) continue;
      for (const auto& text : ep.addresses) {
        auto ip = IpAddr::parse(text);
        if (!ip) continue;
        const std::string own = lower(endpointLabel(ep, *ip) + "." + fqdn);
        addAddress(fqdn, *ip, out);
        addAddress(own, *ip, out);
        addPtr(*ip, own, out);
        for (const auto& port : slice.ports) {
          if (!port.name.empty()) srvTargets[srvName(port, fqdn)].emplace_back(port.port, own);
        }
      }
    }
  }
  for (auto& [name, targets] : srvTargets) {
    std::ranges::sort(targets);
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    addSrv(name, targets, out);
  }
}

}  // namespace

ServiceInfo serviceInfoOf(const nlohmann::json& service) {
  const auto& meta = jsonField(service, "metadata");
  const auto& spec = jsonField(service, "spec");
  ServiceInfo s;
  s.ns = jsonString(meta, "namespace");
  s.name = jsonString(meta, "name");
  s.externalNameType = jsonString(spec, "type") == "ExternalName";
  s.externalName = jsonString(spec, "externalName");
  for (const auto& ip : jsonArray(spec, "clusterIPs")) {
    if (ip.is_string()) s.clusterIPs.push_back(ip.get<std::string>());
  }
  std::string clusterIp = jsonString(spec, "clusterIP");
  if (s.clusterIPs.empty() && !clusterIp.empty()) s.clusterIPs.push_back(clusterIp);
  s.headless = clusterIp == "None";
  if (s.headless) s.clusterIPs.clear();
  s.publishNotReadyAddresses = jsonBool(spec, "publishNotReadyAddresses");
  s.ports = portsOf(jsonArray(spec, "ports"));
  return s;
}

SliceInfo sliceInfoOf(const nlohmann::json& slice) {
  const auto& meta = jsonField(slice, "metadata");
  SliceInfo out;
  out.ns = jsonString(meta, "namespace");
  out.serviceName = jsonString(jsonField(meta, "labels"), kServiceNameLabel);
  out.addressType = jsonString(slice, "addressType");
  for (const auto& e : jsonArray(slice, "endpoints")) {
    EndpointInfo ep;
    for (const auto& a : jsonArray(e, "addresses")) {
      if (a.is_string()) ep.addresses.push_back(a.get<std::string>());
    }
    ep.hostname = jsonString(e, "hostname");
    ep.ready = jsonBool(jsonField(e, "conditions"), "ready", true);
    out.endpoints.push_back(std::move(ep));
  }
  out.ports = portsOf(jsonArray(slice, "ports"));
  return out;
}

std::string reverseName(std::string_view text) {
  auto ip = IpAddr::parse(text);
  if (!ip) return "";
  std::string name;
  const uint8_t* b = ip->data();
  if (ip->isV4()) {
    for (int i = 3; i >= 0; --i)
      name += fmt::format("{}.", b[i]);
    return name + "in-addr.arpa.";
  }
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    name += kHex[b[i] & 0xf];
    name += '.';
    name += kHex[b[i] >> 4];
    name += '.';
  }
  return name + "ip6.arpa.";
}

void addServiceRecords(std::string_view domain, const ServiceInfo& service,
                       const std::vector<SliceInfo>& slices, RecordSet& out) {
  const std::string fqdn = absolute(fmt::format("{}.{}.svc.{}", service.name, service.ns, domain));
  if (service.externalNameType) {
    if (!service.externalName.empty()) out.insert({fqdn, "CNAME", absolute(service.externalName)});
    return;
  }
  if (service.headless) {
    addHeadlessRecords(service, fqdn, slices, out);
  } else {
    addClusterIpRecords(service, fqdn, out);
  }
}

RecordSet clusterRecords(std::string_view domain, const std::vector<ServiceInfo>& services,
                         const std::vector<SliceInfo>& slices) {
  std::map<std::pair<std::string, std::string>, std::vector<SliceInfo>> byService;
  for (const auto& slice : slices)
    byService[{slice.ns, slice.serviceName}].push_back(slice);
  // Spec 2.2: the schema version this server implements.
  RecordSet out = {{absolute(fmt::format("dns-version.{}", domain)), "TXT", "\"1.1.0\""}};
  static const std::vector<SliceInfo> kNone;
  for (const auto& s : services) {
    auto it = byService.find({s.ns, s.name});
    addServiceRecords(domain, s, it == byService.end() ? kNone : it->second, out);
  }
  return out;
}

}  // namespace berth::dns
