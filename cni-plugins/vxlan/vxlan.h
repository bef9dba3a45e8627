#pragma once
// The vxlan plugin: the bridge plugin's attachment (bridge, veth, IPAM over the node's pod
// subnet, the gateway on the bridge) plus the node's VXLAN device and a route, neighbour and FDB
// entry per peer node from the peers file. Configuration, on top of the bridge plugin's keys:
//
//   "nodeSubnet": "10.244.1.0/24"   this node's pod subnet (host-local's range)
//   "vni": 1, "port": 8472          VXLAN network id and UDP port (flannel's defaults)
//   "device": "berth.1"             the VXLAN device (default "berth.<vni>")
//   "localIP": "192.168.1.1"        the underlay address VXLAN packets leave from
//   "underlayInterface": "eth0"     optional: the device they leave by
//   "vxlanMTU": 1450                optional MTU of the VXLAN device
//   "peersFile": "/etc/berth/vxlan-peers.json"
//
// Peers are synced on every ADD and by `vxlan sync-peers <config file>` (after the file
// changed); a sync touches routes, neighbours and FDB entries only, never pods.

#include <optional>
#include <string>

#include "cni-plugins/bridge/bridge.h"
#include "cni-plugins/cni/skel.h"
#include "cni-plugins/vxlan/peers.h"

namespace berth::cni::vxlan {

struct VxlanConf {
  IpNet nodeSubnet;
  uint32_t vni = 1;
  int port = 8472;
  std::string device;
  std::optional<IpAddr> localIP;
  std::string underlayInterface;
  int vxlanMTU = 0;
  std::string peersFile;
};

[[nodiscard]] CniResult<VxlanConf> parseVxlanConf(const NetConf& net);

// Creates (or finds) the VXLAN device, addresses and raises it, and syncs the peers.
[[nodiscard]] CniStatus ensureOverlay(Netlink& nl, const VxlanConf& c);

// The bridge attachment's arguments: the bridge as the pods' default gateway, and the VXLAN
// device's MTU for the pods unless "mtu" is set.
[[nodiscard]] CniResult<CmdArgs> podArgs(Netlink& nl, const VxlanConf& c, const CmdArgs& args);
[[nodiscard]] CniResult<PluginResult> cmdAdd(bridge::Env& env, const CmdArgs& args);

Plugin plugin();

// `vxlan sync-peers <network config file>`: exit code 0 or 1, errors on stderr.
int syncPeersMain(const std::string& confFile);

}  // namespace berth::cni::vxlan
