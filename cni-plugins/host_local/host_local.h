#pragma once
// The host-local IPAM plugin's verbs (ADD, DEL, CHECK, GC, STATUS) over its on-disk store.

#include <functional>
#include <optional>
#include <vector>

#include "cni-plugins/cni/skel.h"

namespace berth::cni::hostlocal {

[[nodiscard]] CniResult<PluginResult> cmdAdd(const CmdArgs& args);
[[nodiscard]] CniStatus cmdDel(const CmdArgs& args);
[[nodiscard]] CniStatus cmdCheck(const CmdArgs& args);
[[nodiscard]] CniStatus cmdGc(const CmdArgs& args);
[[nodiscard]] CniStatus cmdStatus(const CmdArgs& args);

// What the store of a network holds, read under its lock.
struct StoreContents {
  std::vector<IpAddr> inUse;   // every address allocated
  std::vector<IpNet> subnets;  // the network's range subnets (canonical); empty for a config
                               // whose ranges don't parse (a DEL's)
};

// Runs `fn` with the config's store locked (so no ADD or DEL of the network runs meanwhile),
// passing what it holds when `wantContents` (else nullopt). For a plugin that keeps per-network
// state beside the pods (bridge's masqueraded subnets). A DEL's config needs only a name.
[[nodiscard]] CniStatus withStoreLocked(
    const CmdArgs& args, bool wantContents,
    const std::function<CniStatus(const std::optional<StoreContents>&)>& fn);

Plugin plugin();

// resolv.conf → the result's dns (nameserver, domain, search, options lines).
Dns parseResolvConf(std::string_view text);

}  // namespace berth::cni::hostlocal
