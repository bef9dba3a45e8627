#pragma once
// The host-local IPAM plugin's verbs (ADD, DEL, CHECK, GC, STATUS) over its on-disk store.

#include "cni-plugins/cni/skel.h"

namespace berth::cni::hostlocal {

[[nodiscard]] CniResult<PluginResult> cmdAdd(const CmdArgs& args);
[[nodiscard]] CniStatus cmdDel(const CmdArgs& args);
[[nodiscard]] CniStatus cmdCheck(const CmdArgs& args);
[[nodiscard]] CniStatus cmdGc(const CmdArgs& args);
[[nodiscard]] CniStatus cmdStatus(const CmdArgs& args);

Plugin plugin();

// resolv.conf → the result's dns (nameserver, domain, search, options lines).
Dns parseResolvConf(std::string_view text);

}  // namespace berth::cni::hostlocal
