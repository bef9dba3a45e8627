#pragma once
// host-local's configuration (the reference plugin's ipam keys): "ranges" as a list of range sets,
// the legacy single range ("subnet", "rangeStart", "rangeEnd", "gateway"), "routes", "dataDir",
// "resolvConf", and the addresses a runtime asks for (CNI_ARGS IP=, args.cni.ips, the "ips"
// capability), and range sets from the "ipRanges" capability. Parsing is pure and validates
// everything before anything touches the store.

#include <optional>
#include <string>
#include <vector>

#include "cni-plugins/cni/types.h"

namespace berth::cni::hostlocal {

struct Range {
  IpNet subnet;  // canonical (host bits clear)
  IpAddr rangeStart;
  IpAddr rangeEnd;
  IpAddr gateway;
  bool contains(const IpAddr& ip) const {
    return subnet.contains(ip) && ip >= rangeStart && ip <= rangeEnd;
  }
};

using RangeSet = std::vector<Range>;

struct IpamConfig {
  std::string name;  // the network's name: the store directory
  std::string cniVersion;
  std::vector<RangeSet> ranges;
  std::vector<Route> routes;
  std::string dataDir = "/var/lib/cni/networks";
  std::string resolvConf;
  std::vector<IpAddr> requestedIps;
};

// Errors are kInvalidNetworkConfig naming the field ("ipam.ranges[1][0].rangeStart: ...").
[[nodiscard]] CniResult<IpamConfig> parseIpamConfig(const NetConf& conf, std::string_view cniArgs);
// DEL's reading: only what finds the store (name, ipam.dataDir when it is a string), no ranges.
[[nodiscard]] CniResult<IpamConfig> parseIpamStore(const NetConf& conf);

// "10.1.0.2-10.1.0.254,10.2.0.2-10.2.0.254" for messages.
std::string describe(const RangeSet& set);

}  // namespace berth::cni::hostlocal
