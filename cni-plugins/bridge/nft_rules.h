#pragma once
// The bridge plugin's nftables rules, all in one table of ours (`inet berth-cni`), written as
// nft batches that apply atomically. Per attachment there are only map elements, so ADD and DEL
// are one element each and never rewrite rules other pods depend on:
//
//   table inet berth-cni {
//     map masq4 { type ipv4_addr : verdict }   pod address -> jump masq-<network>
//     map masq6 { type ipv6_addr : verdict }
//     chain postrouting { type nat hook postrouting priority srcnat
//       ip saddr vmap @masq4; ip6 saddr vmap @masq6 }
//     chain masq-<network> { ip daddr <pod subnet> return; ip daddr 224.0.0.0/4 return;
//                            ip6 daddr <subnet> return; ip6 daddr ff00::/8 return; masquerade }
//     set spoof-ok { type ifname . ether_addr }  host veth . the pod's MAC
//     set spoof-ports { type ifname }              veths with macspoofchk
//     chain spoofcheck { type filter hook prerouting priority -300 (bridge family: see below) }
//   }
//
// macspoofchk lives in a `bridge` family table (berth-cni-bridge), since frames from a port are
// seen there: a frame from a checked port whose source MAC isn't the pod's is dropped.

#include <string>
#include <vector>

#include "common/ip.h"

namespace berth::cni::bridge {

inline constexpr std::string_view kTable = "berth-cni";
inline constexpr std::string_view kBridgeTable = "berth-cni-bridge";

// Chain names are per network: "masq-" and a short hash of the network's name.
std::string masqChain(const std::string& network);

// ADD: the table, maps, postrouting and the network's chain (idempotent), and an element per
// address. `subnets` are the pod addresses with their prefixes (what is not masqueraded).
std::string masqAddBatch(const std::string& network, const std::vector<IpNet>& podAddresses);
// ADD when the network's chain exists: the elements only (a base chain left alone commits
// several times faster). Fails when the table or chain is missing: then masqAddBatch.
std::string masqAddElements(const std::string& network, const std::vector<IpNet>& podAddresses);
// DEL's fast path: the delete alone (fails when anything is already gone: then masqDelBatch).
std::string masqDelElements(const std::vector<IpNet>& podAddresses);
// DEL: removes the elements, succeeding when they (or the whole table) are already gone.
std::string masqDelBatch(const std::string& network, const std::vector<IpNet>& podAddresses);

// macspoofchk for one port: only `mac` may leave `hostVeth` as a source address.
std::string spoofAddBatch(const std::string& hostVeth, const std::string& mac);
std::string spoofDelBatch(const std::string& hostVeth, const std::string& mac);

}  // namespace berth::cni::bridge
