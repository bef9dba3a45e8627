#pragma once
// The loopback plugin: brings `lo` up in the container's namespace (ADD), down (DEL).

#include "cni-plugins/cni/skel.h"
#include "common/netlink.h"

namespace berth::cni::loopback {

// The verbs over a netlink socket in the container's namespace (a fake in unit tests).
[[nodiscard]] CniResult<PluginResult> add(Netlink& nl, const CmdArgs& args);
[[nodiscard]] CniStatus del(Netlink& nl);
[[nodiscard]] CniStatus check(Netlink& nl);

Plugin plugin();

}  // namespace berth::cni::loopback
