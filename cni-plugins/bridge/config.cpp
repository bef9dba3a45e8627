#include "cni-plugins/bridge/config.h"

#include <net/if.h>

#include "cni-plugins/cni/config_json.h"
#include "ocispec/json_reader.h"

namespace berth::cni::bridge {

CniResult<BridgeConf> parseBridgeConf(const NetConf& net) {
  BridgeConf c;
  c.net = net;
  auto r = CNI_TRY(asCni(openConfig(net.raw, "")));
  CNI_TRY(asCni(r.optional("bridge", c.bridge)));
  CNI_TRY(asCni(r.optional("isGateway", c.isGateway)));
  CNI_TRY(asCni(r.optional("isDefaultGateway", c.isDefaultGateway)));
  CNI_TRY(asCni(r.optional("forceAddress", c.forceAddress)));
  CNI_TRY(asCni(r.optional("ipMasq", c.ipMasq)));
  CNI_TRY(asCni(r.optional("mtu", c.mtu)));
  CNI_TRY(asCni(r.optional("hairpinMode", c.hairpinMode)));
  CNI_TRY(asCni(r.optional("promiscMode", c.promiscMode)));
  CNI_TRY(asCni(r.optional("vlan", c.vlan)));
  CNI_TRY(asCni(r.optional("macspoofchk", c.macspoofchk)));
  if (c.isDefaultGateway) c.isGateway = true;
  if (c.bridge.empty() || c.bridge.size() >= IFNAMSIZ ||
      c.bridge.find_first_of("/: \t") != std::string::npos) {
    return cniFail(kInvalidNetworkConfig, "bridge: invalid interface name \"{}\"", c.bridge);
  }
  if (c.mtu < 0 || c.mtu > 65535) {
    return cniFail(kInvalidNetworkConfig, "mtu: {} is not a valid MTU", c.mtu);
  }
  if (c.vlan < 0 || c.vlan > 4094) {
    return cniFail(kInvalidNetworkConfig, "vlan: invalid VLAN ID {} (must be between 0 and 4094)",
                   c.vlan);
  }
  if (c.hairpinMode && c.promiscMode) {
    return cniFail(kInvalidNetworkConfig,
                   "hairpinMode, promiscMode: cannot set hairpin mode and promiscuous mode at the "
                   "same time");
  }
  return c;
}

BridgeConf parseBridgeConfForDel(const NetConf& net) {
  if (auto strict = parseBridgeConf(net)) return *strict;
  BridgeConf c;
  c.net = net;
  auto r = openConfig(net.raw, "");
  for (auto [key, flag] :
       {std::pair{"ipMasq", &c.ipMasq}, std::pair{"macspoofchk", &c.macspoofchk}}) {
    bool value = false;
    *flag = !r || !r->optional(key, value) || value;
  }
  return c;
}

}  // namespace berth::cni::bridge
