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

}  // namespace berth::cni::bridge
