#pragma once
// The portmap plugin (chained after an interface plugin): hostPort -> containerPort DNAT for the
// runtime's portMappings capability, with masquerade for hairpin and localhost traffic.

#include <functional>

#include "cni-plugins/cni/skel.h"
#include "common/nft.h"

namespace berth::cni::portmap {

struct PortmapConf {
  bool snat = true;
};

struct Env {
  std::function<CniResult<Nft*>()> nft;
  std::function<Status(std::string_view name, std::string_view value)> sysctl;
};

[[nodiscard]] CniResult<PortmapConf> parsePortmapConf(const NetConf& net);
[[nodiscard]] CniResult<PluginResult> cmdAdd(Env& env, const CmdArgs& args);
[[nodiscard]] CniStatus cmdDel(Env& env, const CmdArgs& args);
[[nodiscard]] CniStatus cmdCheck(Env& env, const CmdArgs& args);
// Removes elements whose owner is not among cni.dev/valid-attachments.
[[nodiscard]] CniStatus cmdGc(Env& env, const CmdArgs& args);

Plugin plugin();

}  // namespace berth::cni::portmap
