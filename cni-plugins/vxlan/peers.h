#pragma once
// The overlay's peers (other nodes) and how they become kernel state, flannel's vxlan backend
// style. Each node has one VXLAN device whose MAC is derived from the node's pod subnet and whose
// address is the subnet's network address (/32). For a peer with pod subnet S on node IP N:
//
//   route      S via S.network dev <vxlan> onlink
//   neighbour  S.network lladdr vtepMac(S) dev <vxlan>       (permanent)
//   fdb        vtepMac(S) dev <vxlan> dst N                   (permanent, self)
//
// The peers file is a JSON array: [{"name": "node2", "nodeIP": "192.168.1.2",
// "podSubnet": "10.244.2.0/24"}, ...]; the node's own entry (its pod subnet) is skipped.

#include <string>
#include <vector>

#include "cni-plugins/cni/types.h"
#include "common/netlink.h"

namespace berth::cni::vxlan {

struct Peer {
  std::string name;
  IpAddr nodeIP;
  IpNet podSubnet;  // canonical
  auto operator<=>(const Peer&) const = default;
};

// The VTEP MAC of the node owning `podSubnet`: 0e:58 and the subnet's IPv4 network address, so a
// peer's MAC is known from its subnet alone.
MacAddr vtepMac(const IpNet& podSubnet);

// Errors name the file and the entry ("peers.json: [1].nodeIP: ...").
[[nodiscard]] CniResult<std::vector<Peer>> parsePeers(std::string_view json,
                                                      const std::string& source);

struct PeerPlan {
  std::vector<Peer> add;      // routes, neighbours and FDB entries to (re)write
  std::vector<IpNet> remove;  // subnets of peers that left
};

// Pure: desired peers (minus our own subnet) against the subnets routed via the device now.
PeerPlan planPeers(const std::vector<Peer>& desired, const IpNet& ownSubnet,
                   const std::vector<IpNet>& routedNow);

// Applies a plan on the device (index `vxlan`).
[[nodiscard]] Status applyPeerPlan(Netlink& nl, int vxlan, const PeerPlan& plan);

// Lists the device's peer routes, plans against `desired` and applies: the whole sync.
[[nodiscard]] Status syncPeers(Netlink& nl, int vxlan, const IpNet& ownSubnet,
                               const std::vector<Peer>& desired);

}  // namespace berth::cni::vxlan
