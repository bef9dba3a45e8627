#pragma once
// portmap's nftables rules, in our one table (`inet berth-cni`), as map elements so a pod's ADD
// and DEL add and remove only its own elements (a hostPort another pod holds is a conflict the
// kernel reports):
//
//   map hostports4    { type inet_proto . inet_service : ipv4_addr . inet_service }   any hostIP
//   map hostports4-ip { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
//   map hostports6, hostports6-ip (the same for IPv6)
//   set hairpin4 { type ipv4_addr . ipv4_addr; flags interval }   pod subnet . pod address
//   set hairpin6
//   chain hostport-prerouting { type nat hook prerouting priority dstnat; fib daddr type local
//                               jump hostport-dnat }
//   chain hostport-output     { type nat hook output priority -100; the same }
//   chain hostport-dnat       { the four maps, hostIP-specific first }
//   chain hostport-postrouting { type nat hook postrouting priority srcnat;
//       ct status dnat ip saddr 127.0.0.0/8 masquerade           localhost (route_localnet)
//       ct status dnat ip saddr . ip daddr @hairpin4 masquerade   pods of the subnet, itself }

#include <string>
#include <vector>

#include "cni-plugins/cni/nft_elements.h"
#include "cni-plugins/cni/types.h"
#include "common/nft.h"

namespace berth::cni::portmap {

inline constexpr std::string_view kTable = "berth-cni";

struct Mapping {
  PortMapping port;
  IpNet container;    // the pod address (with its prefix) the port goes to
  std::string owner;  // "<containerID>/<ifname>": the elements' comment, for DEL without
                      // prevResult and for GC
};

// The mappings for the pod's addresses: each port on each address of a matching family (a hostIP
// selects its family).
std::vector<Mapping> mappingsFor(const std::vector<PortMapping>& ports,
                                 const std::vector<IpNet>& containerIps, const std::string& owner);

// The map a mapping's element lives in, and its key in nft syntax ("tcp . 8080").
std::string mappingSet(const Mapping& m);
std::string mappingKey(const Mapping& m);
// Whether a set or map of our table holds portmap elements.
bool isPortmapSet(std::string_view name);

// The elements alone (fast path; fails when the table is missing).
std::string addElements(const std::vector<Mapping>& m, bool snat);
// Table, maps, sets and chains (idempotent), then the elements.
std::string addBatch(const std::vector<Mapping>& m, bool snat);
std::string delElements(const std::vector<Mapping>& m, bool snat);
// Succeeds whatever is already gone.
std::string delBatch(const std::vector<Mapping>& m, bool snat);

// addElements/delElements in the kernel's layout, for Nft::addElements/deleteElements (no nft
// parser or cache: the fast path of every ADD and DEL once the table exists).
std::vector<NftElement> nftElements(const std::vector<Mapping>& m, bool snat);

}  // namespace berth::cni::portmap
