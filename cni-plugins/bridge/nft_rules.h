#pragma once
// The bridge plugin's nftables rules, all in one table of ours (`inet berth-cni`), written as
// nft batches that apply atomically.
//
// ipMasq is per network, not per pod: the pod subnets of masquerading networks are elements of
// a set, and one rule masquerades what leaves them for elsewhere. ADD adds its subnet when the
// lookup doesn't find it; DEL removes it with the subnet's last pod (bridge.cpp). Per-pod
// elements would cost every DEL an element deletion, which waits for an RCU grace period
// (~12 ms here), for the same packets masqueraded.
//
//   table inet berth-cni {
//     set masq-nets4 { type ipv4_addr; flags interval }   pod subnets with ipMasq
//     set masq-nets6 { type ipv6_addr; flags interval }
//     chain postrouting { type nat hook postrouting priority srcnat
//       ip saddr @masq-nets4 ip daddr != 224.0.0.0/4 ip daddr != @masq-nets4 masquerade
//       ip6 saddr @masq-nets6 ip6 daddr != ff00::/8 ip6 daddr != @masq-nets6 masquerade }
//   }
//
// macspoofchk lives in a `bridge` family table (berth-cni-bridge), since frames from a port are
// seen there: a frame from a checked port whose source MAC isn't the pod's is dropped.

#include <string>
#include <vector>

#include "common/ip.h"
#include "common/nft.h"

namespace berth::cni::bridge {

inline constexpr std::string_view kTable = "berth-cni";
inline constexpr std::string_view kBridgeTable = "berth-cni-bridge";

// ADD: the table, sets and chain (idempotent), then the subnets of `podAddresses`.
std::string masqAddBatch(const std::vector<IpNet>& podAddresses);
// ADD when the table exists: the subnets alone (the chain is left alone: rewriting a base chain
// costs a slow commit). Fails when the table is missing: then masqAddBatch.
std::string masqAddElements(const std::vector<IpNet>& podAddresses);
// The interval elements masqAddElements adds (start, and end one past the subnet), as the kernel
// holds them: ADD looks them up and skips nftables' parser and commit when they are there.
std::vector<NftElement> masqElements(const std::vector<IpNet>& podAddresses);

// macspoofchk for one port: only `mac` may leave `hostVeth` as a source address.
// The elements carry their attachment ("<id>/<ifname>") as a comment, for DEL without
// prevResult and GC.
std::string spoofAddBatch(const std::string& hostVeth, const std::string& mac,
                          const std::string& owner);
std::string spoofDelBatch(const std::string& hostVeth, const std::string& mac);

}  // namespace berth::cni::bridge
