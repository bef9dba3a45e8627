#include "cni-plugins/vxlan/vxlan.h"

#include <algorithm>
#include <cstdio>

#include "cni-plugins/cni/config_json.h"
#include "common/file_util.h"
#include "ocispec/json_reader.h"

namespace berth::cni::vxlan {

CniResult<VxlanConf> parseVxlanConf(const NetConf& net) {
  VxlanConf c;
  auto r = CNI_TRY(asCni(openConfig(net.raw, "")));
  std::string subnet, local;
  CNI_TRY(asCni(r.required("nodeSubnet", subnet)));
  auto s = IpNet::parse(subnet);
  if (!s || !s->ip().isV4()) {
    return cniFail(kInvalidNetworkConfig, "nodeSubnet: invalid IPv4 CIDR \"{}\"", subnet);
  }
  c.nodeSubnet = s->canonical();
  CNI_TRY(asCni(r.optional("vni", c.vni)));
  if (c.vni == 0 || c.vni > 0xffffff) {
    return cniFail(kInvalidNetworkConfig, "vni: {} is not a VXLAN network id (1-16777215)", c.vni);
  }
  CNI_TRY(asCni(r.optional("port", c.port)));
  if (c.port < 1 || c.port > 65535) {
    return cniFail(kInvalidNetworkConfig, "port: {} is not a UDP port", c.port);
  }
  CNI_TRY(asCni(r.optional("device", c.device)));
  if (c.device.empty()) c.device = fmt::format("berth.{}", c.vni);
  if (c.device.size() > 15) {
    return cniFail(kInvalidNetworkConfig, "device: \"{}\" is longer than 15 characters", c.device);
  }
  CNI_TRY(asCni(r.optional("localIP", local)));
  if (!local.empty()) {
    c.localIP = IpAddr::parse(local);
    if (!c.localIP) return cniFail(kInvalidNetworkConfig, "localIP: invalid IP \"{}\"", local);
  }
  CNI_TRY(asCni(r.optional("underlayInterface", c.underlayInterface)));
  CNI_TRY(asCni(r.optional("vxlanMTU", c.vxlanMTU)));
  CNI_TRY(asCni(r.required("peersFile", c.peersFile)));
  return c;
}

CniStatus ensureOverlay(Netlink& nl, const VxlanConf& c) {
  auto dev = CNI_TRY(asCni(nl.linkByName(c.device)));
  if (!dev) {
    VxlanSpec spec;
    spec.name = c.device;
    spec.vni = c.vni;
    spec.port = c.port;
    spec.local = c.localIP;
    spec.mtu = c.vxlanMTU;
    if (!c.underlayInterface.empty()) {
      auto under = CNI_TRY(asCni(nl.linkByName(c.underlayInterface)));
      if (!under) {
        return cniFail(kInvalidNetworkConfig, "underlayInterface: no interface \"{}\"",
                       c.underlayInterface);
      }
      spec.underlayIndex = under->index;
    } else if (c.localIP) {
      // The device holding localIP is the underlay: the kernel then sizes the VXLAN MTU to it
      // (its MTU less the encapsulation), as flannel does.
      for (const auto& l : CNI_TRY(asCni(nl.links()))) {
        auto addrs = CNI_TRY(asCni(nl.addresses(l.index, c.localIP->family())));
        if (std::any_of(addrs.begin(), addrs.end(),
                        [&](const IpNet& a) { return a.ip() == *c.localIP; })) {
          spec.underlayIndex = l.index;
          break;
        }
      }
    }
    auto created = nl.createVxlan(spec);
    if (!created && created.error().sysErrno() != EEXIST) {
      return std::unexpected(toCniError(created.error()));
    }
    dev = CNI_TRY(asCni(nl.linkByName(c.device)));
    if (!dev) return cniFail(kInternal, "{} vanished after creation", c.device);
  }
  if (dev->kind != "vxlan") return cniFail(kInternal, "{} exists but is not a vxlan", c.device);
  auto mac = vtepMac(c.nodeSubnet);
  if (dev->mac != mac) CNI_TRY(asCni(nl.setMac(dev->index, mac)));
  CNI_TRY(asCni(nl.addAddress(dev->index, IpNet(c.nodeSubnet.network(), 32))));
  if (!dev->up()) CNI_TRY(asCni(nl.setUp(dev->index, true)));

  auto text = readFile(c.peersFile);
  if (!text) return cniFail(kIoFailure, "peersFile: {}", text.error().message());
  auto peers = CNI_TRY(parsePeers(*text, c.peersFile));
  return asCni(syncPeers(nl, dev->index, c.nodeSubnet, peers));
}

CniResult<CmdArgs> podArgs(Netlink& nl, const VxlanConf& c, const CmdArgs& args) {
  CmdArgs b = args;
  b.conf.raw["isDefaultGateway"] = true;
  // Pods get the overlay's MTU unless the config says otherwise (flannel does the same).
  if (member(b.conf.raw, "mtu") == nullptr) {
    auto dev = CNI_TRY(asCni(nl.linkByName(c.device)));
    if (dev && dev->mtu > 0) b.conf.raw["mtu"] = dev->mtu;
  }
  return b;
}

CniResult<PluginResult> cmdAdd(bridge::Env& env, const CmdArgs& args) {
  auto c = CNI_TRY(parseVxlanConf(args.conf));
  CNI_TRY(ensureOverlay(*env.host, c));
  return bridge::cmdAdd(env, CNI_TRY(podArgs(*env.host, c, args)));
}

Plugin plugin() {
  auto p = bridge::plugin();
  p.about = "berth vxlan plugin " BERTH_VERSION " (CNI 1.1, flannel-style overlay)";
  auto bridgeAdd = p.add;
  p.add = [bridgeAdd](const CmdArgs& a) -> CniResult<PluginResult> {
    auto c = CNI_TRY(parseVxlanConf(a.conf));
    auto nl = CNI_TRY(asCni(MnlNetlink::open()));
    CNI_TRY(ensureOverlay(*nl, c));
    return bridgeAdd(CNI_TRY(podArgs(*nl, c, a)));
  };
  return p;
}

int syncPeersMain(const std::string& confFile) {
  auto text = readFile(confFile);
  if (!text) {
    std::fprintf(stderr, "vxlan: %s\n", text.error().message().c_str());
    return 1;
  }
  auto run = [&]() -> CniStatus {
    auto net = CNI_TRY(parseNetConf(*text));
    auto c = CNI_TRY(parseVxlanConf(net));
    auto nl = CNI_TRY(asCni(MnlNetlink::open()));
    return ensureOverlay(*nl, c);
  };
  if (auto s = run(); !s) {
    std::fprintf(stderr, "vxlan: %s: %s\n", confFile.c_str(), s.error().msg.c_str());
    return 1;
  }
  return 0;
}

}  // namespace berth::cni::vxlan
