#pragma once
// Cluster DNS records as the Kubernetes DNS specification defines them
// (github.com/kubernetes/dns docs/specification.md), computed from Services and their
// EndpointSlices by pure functions: what the server answers is exactly this set.
//
//   ClusterIP:    <svc>.<ns>.svc.<domain>  A/AAAA <clusterIP>, PTR back to it,
//                 _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV 0 100 <port> <svc>...
//   headless:     <svc>.<ns>.svc.<domain>  A/AAAA <each ready endpoint>,
//                 <hostname>.<svc>.<ns>.svc.<domain> A/AAAA <endpoint> (hostname, or the address
//                 with '.'/':' as '-' as CoreDNS names endpoints without one), PTR back to it,
//                 SRV per named port to each endpoint's name
//   ExternalName: <svc>.<ns>.svc.<domain>  CNAME <externalName>
//   dns-version.<domain> TXT "1.1.0"
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::dns {

// One resource record in zone-file text. Names are absolute (trailing dot), lower case.
struct Record {
  std::string name;
  std::string type;  // A, AAAA, SRV, PTR, CNAME, TXT
  std::string data;  // rdata as a zone file writes it
  auto operator<=>(const Record&) const = default;
};
using RecordSet = std::set<Record>;

struct PortInfo {
  std::string name;      // "" for an unnamed port (no SRV record)
  std::string protocol;  // TCP, UDP, SCTP
  int port = 0;
};

struct ServiceInfo {
  std::string ns;
  std::string name;
  bool externalNameType = false;
  std::string externalName;
  bool headless = false;  // clusterIP None
  std::vector<std::string> clusterIPs;
  bool publishNotReadyAddresses = false;
  std::vector<PortInfo> ports;
};

struct EndpointInfo {
  std::vector<std::string> addresses;
  std::string hostname;
  bool ready = true;  // conditions.ready; unset means ready (discovery/v1)
};

struct SliceInfo {
  std::string ns;
  std::string serviceName;  // label kubernetes.io/service-name
  std::string addressType;  // IPv4, IPv6, FQDN
  std::vector<EndpointInfo> endpoints;
  std::vector<PortInfo> ports;
};

ServiceInfo serviceInfoOf(const nlohmann::json& service);
SliceInfo sliceInfoOf(const nlohmann::json& slice);

// The in-addr.arpa / ip6.arpa name of an address ("" when `ip` is not one).
std::string reverseName(std::string_view ip);

// Adds the records of one Service, its endpoints taken from `slices` (those of this Service).
void addServiceRecords(std::string_view domain, const ServiceInfo& service,
                       const std::vector<SliceInfo>& slices, RecordSet& out);

// Every Service's records and the schema version; slices are matched to their Service by
// namespace and name.
RecordSet clusterRecords(std::string_view domain, const std::vector<ServiceInfo>& services,
                         const std::vector<SliceInfo>& slices);

}  // namespace berth::dns
