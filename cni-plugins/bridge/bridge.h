#pragma once
// The bridge plugin: a Linux bridge on the host, a veth pair per attachment with one end in the
// pod's namespace, addresses from the delegated IPAM plugin, the gateway on the bridge, and
// masquerade and MAC spoof checks in nftables.

#include <functional>
#include <memory>

#include "cni-plugins/bridge/config.h"
#include "cni-plugins/cni/skel.h"
#include "cni-plugins/host_local/host_local.h"
#include "common/netlink.h"
#include "common/nft.h"

namespace berth::cni::bridge {

// What the plugin touches, injected so the logic is unit-tested with fakes.
struct Env {
  Netlink* host = nullptr;
  // Netlink in the pod's namespace (CNI_NETNS); fails when it can't be opened.
  std::function<CniResult<Netlink*>()> pod;
  int podNetnsFd = -1;
  std::function<CniResult<PluginResult>(const std::string& type, const std::string& conf)> ipamAdd;
  std::function<CniStatus(const std::string& cmd, const std::string& type, const std::string& conf)>
      ipamExec;
  // Runs `fn` with the IPAM's store locked, passing what it holds (the addresses in use, the
  // network's subnets) when asked for. Unset, or an IPAM other than our in-process host-local:
  // `fn` runs as is and gets nullopt.
  using InUseFn = std::function<CniStatus(const std::optional<hostlocal::StoreContents>&)>;
  std::function<CniStatus(bool wantContents, const InUseFn& fn)> ipamLocked;
  // Created on first use (only ipMasq and macspoofchk need it).
  std::function<CniResult<Nft*>()> nft;
  std::function<Status(std::string_view name, std::string_view value)> hostSysctl;
  std::function<std::string()> vethName;  // "veth" + 8 random hex digits
};

[[nodiscard]] CniResult<PluginResult> cmdAdd(Env& env, const CmdArgs& args);
// Releases everything the attachment may hold (IPAM, the masqueraded subnet once unused, the veth
// pair, MAC spoof elements), each step whatever the others did; the first failure is returned.
// Without a prevResult (a runtime's DEL after a failed ADD) the subnets are the network's.
[[nodiscard]] CniStatus cmdDel(Env& env, const CmdArgs& args);
[[nodiscard]] CniStatus cmdCheck(Env& env, const CmdArgs& args);
// GC's nftables part: macspoofchk elements of attachments that are not valid any more.
[[nodiscard]] CniStatus gcSpoofElements(Nft& nft, const std::vector<Attachment>& valid);

// Steps of ADD, exposed for unit tests.
// isGateway: each address gets a gateway (the subnet's first address unless IPAM named one);
// isDefaultGateway: a default route per family via it.
void applyGateways(const BridgeConf& c, PluginResult& r);
// The gateway address on the bridge; another IPv4 address (or an overlapping IPv6 one) is an
// error unless forceAddress, which replaces it.
[[nodiscard]] CniStatus ensureGatewayAddress(Netlink& nl, const LinkInfo& br, const IpNet& gw,
                                             bool forceAddress);

// The plugin over the real kernel.
Plugin plugin();

}  // namespace berth::cni::bridge
