#pragma once
// The bridge plugin's configuration (the reference plugin's keys).

#include <string>

#include "cni-plugins/cni/types.h"

namespace berth::cni::bridge {

struct BridgeConf {
  NetConf net;
  std::string bridge = "cni0";
  bool isGateway = false;
  bool isDefaultGateway = false;  // implies isGateway
  bool forceAddress = false;
  bool ipMasq = false;
  int mtu = 0;
  bool hairpinMode = false;
  bool promiscMode = false;
  int vlan = 0;
  bool macspoofchk = false;
};

// Errors are kInvalidNetworkConfig naming the field.
[[nodiscard]] CniResult<BridgeConf> parseBridgeConf(const NetConf& net);
// DEL's reading: the config as parseBridgeConf reads it, or when that fails what DEL needs read
// key by key, with ipMasq and macspoofchk on where they don't parse (removing what isn't there
// is a no-op), so a config ADD refused still lets DEL clean up.
BridgeConf parseBridgeConfForDel(const NetConf& net);

}  // namespace berth::cni::bridge
