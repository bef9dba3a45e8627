#include "cni-plugins/vxlan/peers.h"

#include <algorithm>

#include "cni-plugins/cni/config_json.h"
#include "ocispec/json_reader.h"

namespace berth::cni::vxlan {

MacAddr vtepMac(const IpNet& podSubnet) {
  IpAddr net = podSubnet.network();
  const uint8_t* b = net.data();
  return {0x0e, 0x58, b[0], b[1], b[2], b[3]};
}

CniResult<std::vector<Peer>> parsePeers(std::string_view json, const std::string& source) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) return cniFail(kDecodeFailure, "{}: invalid JSON", source);
  if (!doc.is_array()) return cniFail(kInvalidNetworkConfig, "{}: must be an array", source);
  std::vector<Peer> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    auto r = openConfig(doc[i], fmt::format("[{}]", i));
    if (!r) return cniFail(kInvalidNetworkConfig, "{}: {}", source, r.error().message());
    Peer p;
    std::string ip, subnet;
    auto read = [&]() -> Status {
      BERTH_TRY(r->optional("name", p.name));
      BERTH_TRY(r->required("nodeIP", ip));
      BERTH_TRY(r->required("podSubnet", subnet));
      auto addr = IpAddr::parse(ip);
      if (!addr) return r->invalid("nodeIP", "invalid IP address \"{}\"", ip);
      auto net = IpNet::parse(subnet);
      if (!net || !net->ip().isV4()) {
        return r->invalid("podSubnet", "invalid IPv4 CIDR \"{}\"", subnet);
      }
      p.nodeIP = *addr;
      p.podSubnet = net->canonical();
      return {};
    };
    if (auto s = read(); !s) {
      return cniFail(kInvalidNetworkConfig, "{}: {}", source, s.error().message());
    }
    out.push_back(p);
  }
  return out;
}

PeerPlan planPeers(const std::vector<Peer>& desired, const IpNet& ownSubnet,
                   const std::vector<IpNet>& routedNow) {
  PeerPlan plan;
  for (const auto& p : desired) {
    if (p.podSubnet == ownSubnet.canonical()) continue;
    plan.add.push_back(p);
  }
  for (const auto& s : routedNow) {
    bool wanted = std::any_of(plan.add.begin(), plan.add.end(),
                              [&](const Peer& p) { return p.podSubnet == s.canonical(); });
    if (!wanted) plan.remove.push_back(s.canonical());
  }
  return plan;
}

Status applyPeerPlan(Netlink& nl, int vxlan, const PeerPlan& plan) {
  for (const auto& s : plan.remove) {
    auto mac = vtepMac(s);
    BERTH_TRY(nl.deleteRoute({s, s.network(), vxlan}));
    BERTH_TRY(nl.deleteNeigh({vxlan, s.network(), mac, false}));
    BERTH_TRY(nl.deleteNeigh({vxlan, std::nullopt, mac, true}));
  }
  for (const auto& p : plan.add) {
    auto mac = vtepMac(p.podSubnet);
    // Replace semantics: a peer that moved to another node IP gets its entry rewritten.
    BERTH_TRY(nl.addNeigh({vxlan, p.nodeIP, mac, true}));
    BERTH_TRY(nl.addNeigh({vxlan, p.podSubnet.network(), mac, false}));
    RouteSpec rt;
    rt.dst = p.podSubnet;
    rt.gw = p.podSubnet.network();
    rt.oif = vxlan;
    rt.onlink = true;
    BERTH_TRY(nl.addRoute(rt));
  }
  return {};
}

Status syncPeers(Netlink& nl, int vxlan, const IpNet& ownSubnet, const std::vector<Peer>& desired) {
  std::vector<IpNet> routed;
  for (const auto& r : BERTH_TRY(nl.routes(4))) {
    if (r.oif == vxlan && r.gw && r.table == 254) routed.push_back(r.dst);
  }
  return applyPeerPlan(nl, vxlan, planPeers(desired, ownSubnet, routed));
}

}  // namespace berth::cni::vxlan
