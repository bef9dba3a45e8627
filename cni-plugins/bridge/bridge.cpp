#include "cni-plugins/bridge/bridge.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cni-plugins/bridge/nft_rules.h"
#include "cni-plugins/cni/exec.h"
#include "cni-plugins/cni/nft_elements.h"
#include "cni-plugins/host_local/host_local.h"
#include "common/scope_guard.h"

namespace berth::cni::bridge {

namespace {

CniResult<LinkInfo> ensureBridge(Netlink& nl, const BridgeConf& c) {
  auto existing = CNI_TRY(asCni(nl.linkByName(c.bridge)));
  if (!existing) {
    auto created = nl.createBridge({c.bridge, c.mtu, c.vlan != 0});
    // Another ADD may have created it since we looked.
    if (!created && created.error().sysErrno() == EOPNOTSUPP && c.vlan != 0) {
      return cniFail(kInternal, "vlan: {} (the kernel has no bridge VLAN filtering)",
                     created.error().message());
    }
    if (!created && created.error().sysErrno() != EEXIST) {
      return std::unexpected(toCniError(created.error()));
    }
    existing = CNI_TRY(asCni(nl.linkByName(c.bridge)));
    if (!existing) return cniFail(kInternal, "bridge {} vanished after creation", c.bridge);
  }
  if (existing->kind != "bridge") {
    return cniFail(kInternal, "{} already exists but is not a bridge", c.bridge);
  }
  if (c.promiscMode && !(existing->flags & IFF_PROMISC)) {
    CNI_TRY(asCni(nl.setPromisc(existing->index, true)));
  }
  if (!existing->up()) CNI_TRY(asCni(nl.setUp(existing->index, true)));
  return *existing;
}

CniStatus configurePod(Netlink& pod, const std::string& ifname, const PluginResult& r) {
  auto link = CNI_TRY(asCni(pod.linkByName(ifname)));
  if (!link) return cniFail(kInternal, "{} is missing in the container's namespace", ifname);
  for (const auto& ip : r.ips)
    CNI_TRY(asCni(pod.addAddress(link->index, ip.address)));
  CNI_TRY(asCni(pod.setUp(link->index, true)));
  for (const auto& rt : r.routes) {
    RouteSpec spec;
    spec.dst = rt.dst;
    spec.gw = rt.gw;
    if (!spec.gw) {
      // The route goes via the gateway of an address of its family.
      for (const auto& ip : r.ips) {
        if (ip.address.ip().family() == rt.dst.ip().family() && ip.gateway) {
          spec.gw = ip.gateway;
          break;
        }
      }
    }
    spec.oif = link->index;
    spec.mtu = rt.mtu;
    spec.advmss = rt.advmss;
    spec.priority = rt.priority;
    spec.table = rt.table;
    spec.scope = rt.scope;
    CNI_TRY(asCni(pod.addRoute(spec)));
  }
  return {};
}

// Deletes macspoofchk elements whose owner matches; no table means nothing to delete.
template <class Pred>
CniStatus removeSpoofElements(Nft& nft, Pred&& matches) {
  auto text = nft.listJson(fmt::format("list table bridge {}", kBridgeTable));
  if (!text) return {};
  std::vector<OwnedElement> doomed;
  for (auto& e : ownedElements(Json::parse(*text, nullptr, false),
                               [](std::string_view s) { return s.starts_with("spoof-"); })) {
    if (matches(e.owner)) doomed.push_back(std::move(e));
  }
  if (doomed.empty()) return {};
  return asCni(nft.run(deleteElements(doomed)));
}

bool hasAll(Nft& nft, const std::vector<NftElement>& elements) {
  return std::all_of(elements.begin(), elements.end(), [&](const NftElement& e) {
    auto has = nft.hasElement("inet", kTable, e);
    return has && *has;
  });
}

std::vector<IpNet> addressesOf(const PluginResult& r) {
  std::vector<IpNet> out;
  for (const auto& ip : r.ips)
    out.push_back(ip.address);
  return out;
}

CniStatus ipamLocked(Env& env, bool wantContents, const Env::InUseFn& fn) {
  if (!env.ipamLocked) return fn(std::nullopt);
  return env.ipamLocked(wantContents, fn);
}

// The pod's subnets leave the masquerade set with the last address in use in them (known only
// from our host-local's store; with another IPAM they stay, as before). Without the prevResult
// (a DEL after a failed ADD) the pod's subnets are unknown: every subnet of the network that no
// address uses goes (one without pods should not be masqueraded anyway).
CniStatus removeUnusedMasqNets(Env& env, const std::optional<PluginResult>& prev) {
  auto remove = [&](const std::optional<hostlocal::StoreContents>& store) -> CniStatus {
    if (!store) return {};
    std::vector<IpNet> nets;
    if (prev) {
      for (const auto& ip : prev->ips)
        nets.push_back(ip.address.canonical());
    } else {
      nets = store->subnets;
    }
    for (const auto& net : nets) {
      if (std::any_of(store->inUse.begin(), store->inUse.end(),
                      [&](const IpAddr& a) { return net.contains(a); })) {
        continue;
      }
      Nft* nft = CNI_TRY(env.nft());
      auto gone = nft->deleteElements("inet", kTable, masqElements({net}));
      // Already gone (or never added: no table) is what DEL wants.
      if (!gone && gone.error().sysErrno() != ENOENT) return asCni(std::move(gone));
    }
    return {};
  };
  return ipamLocked(env, true, remove);
}

}  // namespace

namespace {

IpAddr defaultGateway(const IpNet& addr) {
  return addr.network().next();
}

IpNet defaultNet(int family) {
  return family == 4 ? *IpNet::parse("0.0.0.0/0") : *IpNet::parse("::/0");
}

}  // namespace

// Gateways (isGateway) and default routes (isDefaultGateway) as the reference computes them.
void applyGateways(const BridgeConf& c, PluginResult& r) {
  if (!c.isGateway) return;
  for (auto& ip : r.ips) {
    if (!ip.gateway) ip.gateway = defaultGateway(ip.address);
    if (!c.isDefaultGateway) continue;
    int family = ip.address.ip().family();
    auto def = defaultNet(family);
    auto it = std::find_if(r.routes.begin(), r.routes.end(),
                           [&](const Route& rt) { return rt.dst.canonical() == def; });
    if (it == r.routes.end()) {
      r.routes.push_back(Route{def, ip.gateway});
    } else if (!it->gw) {
      it->gw = ip.gateway;
    }
  }
}

CniStatus ensureGatewayAddress(Netlink& nl, const LinkInfo& br, const IpNet& gw,
                               bool forceAddress) {
  for (const auto& a : CNI_TRY(asCni(nl.addresses(br.index, gw.ip().family())))) {
    if (a == gw) return {};
    // One IPv4 address per bridge; IPv6 ones may coexist when their subnets don't overlap.
    if (gw.ip().isV4() || a.overlaps(gw)) {
      if (!forceAddress) {
        return cniFail(kInternal, "\"{}\" already has an IP address different from {}", br.name,
                       gw.str());
      }
      CNI_TRY(asCni(nl.deleteAddress(br.index, a)));
    }
  }
  return asCni(nl.addAddress(br.index, gw));
}

CniResult<PluginResult> cmdAdd(Env& env, const CmdArgs& args) {
  auto c = CNI_TRY(parseBridgeConf(args.conf));
  Netlink& host = *env.host;
  Netlink* pod = CNI_TRY(env.pod());
  if (pod == nullptr) return cniFail(kInternal, "netns {} does not exist", args.netns);
  if (CNI_TRY(asCni(pod->linkByName(args.ifName)))) {
    return cniFail(kInternal, "container veth name \"{}\" already exists", args.ifName);
  }

  auto br = CNI_TRY(ensureBridge(host, c));

  // The veth pair, its container end created directly in the pod's namespace.
  VethSpec veth;
  veth.name = env.vethName();
  veth.peerName = args.ifName;
  veth.mtu = c.mtu;
  veth.peerNetnsFd = env.podNetnsFd;
  if (!c.net.runtimeConfig.mac.empty()) {
    auto mac = parseMac(c.net.runtimeConfig.mac);
    if (!mac) {
      return cniFail(kInvalidNetworkConfig, "runtimeConfig.mac: invalid MAC address \"{}\"",
                     c.net.runtimeConfig.mac);
    }
    veth.peerMac = *mac;
  }
  CNI_TRY(asCni(host.createVeth(veth)));
  auto hostVeth = CNI_TRY(asCni(host.linkByName(veth.name)));
  if (!hostVeth) return cniFail(kInternal, "veth {} vanished after creation", veth.name);
  int hostIndex = hostVeth->index;
  auto dropVeth = defer([&] { (void)host.deleteLink(hostIndex); });
  CNI_TRY(asCni(host.setMaster(hostIndex, br.index)));
  if (c.hairpinMode) CNI_TRY(asCni(host.setHairpin(hostIndex, true)));
  if (c.vlan != 0) CNI_TRY(asCni(host.setPortVlan(hostIndex, c.vlan)));
  CNI_TRY(asCni(host.setUp(hostIndex, true)));
  auto podLink = CNI_TRY(asCni(pod->linkByName(args.ifName)));
  if (!podLink) return cniFail(kInternal, "{} did not arrive in the container", args.ifName);

  PluginResult result;
  result.cniVersion = c.net.cniVersion;
  result.interfaces = {{c.bridge, formatMac(br.mac), std::nullopt, "", "", ""},
                       {veth.name, formatMac(hostVeth->mac), std::nullopt, "", "", ""},
                       {args.ifName, formatMac(podLink->mac), std::nullopt, args.netns, "", ""}};
  bool ipam = !c.net.ipamType.empty();
  auto releaseIpam = defer([&] {
    if (ipam) (void)env.ipamExec("DEL", c.net.ipamType, args.stdinData);
  });
  if (ipam) {
    auto ipamResult = CNI_TRY(env.ipamAdd(c.net.ipamType, args.stdinData));
    if (ipamResult.ips.empty()) return cniFail(kInternal, "IPAM plugin returned missing IP config");
    result.ips = ipamResult.ips;
    result.routes = ipamResult.routes;
    result.dns = ipamResult.dns;
    for (auto& ip : result.ips)
      ip.interface = 2;
    applyGateways(c, result);
    CNI_TRY(configurePod(*pod, args.ifName, result));
    if (c.isGateway) {
      for (const auto& ip : result.ips) {
        if (!ip.gateway) continue;
        CNI_TRY(ensureGatewayAddress(host, br, IpNet(*ip.gateway, ip.address.prefix()),
                                     c.forceAddress));
        CNI_TRY(asCni(host.setUp(br.index, true)));
        auto fwd = ip.address.ip().isV4() ? env.hostSysctl("net.ipv4.ip_forward", "1")
                                          : env.hostSysctl("net.ipv6.conf.all.forwarding", "1");
        CNI_TRY(asCni(std::move(fwd)));
      }
    }
    if (c.ipMasq) {
      Nft* nft = CNI_TRY(env.nft());
      auto addrs = addressesOf(result);
      // Under the IPAM store's lock, so a DEL removing the subnet with its last pod can't
      // interleave. Every pod after a subnet's first finds it there: a lookup, no transaction.
      CNI_TRY(ipamLocked(env, false, [&](const auto&) -> CniStatus {
        if (hasAll(*nft, masqElements(addrs))) return {};
        if (nft->run(masqAddElements(addrs))) return {};
        return asCni(nft->run(masqAddBatch(addrs)));
      }));
    }
  } else {
    CNI_TRY(asCni(pod->setUp(podLink->index, true)));
  }
  if (c.macspoofchk) {
    Nft* nft = CNI_TRY(env.nft());
    CNI_TRY(asCni(nft->run(spoofAddBatch(veth.name, formatMac(podLink->mac),
                                         attachmentOwner(args.containerId, args.ifName)))));
  }
  // The bridge's MAC can change when its first port arrives.
  if (auto now = host.linkByName(c.bridge); now && *now) {
    result.interfaces[0].mac = formatMac((*now)->mac);
  }
  dropVeth.cancel();
  releaseIpam.cancel();
  return result;
}

CniStatus cmdDel(Env& env, const CmdArgs& args) {
  auto c = parseBridgeConfForDel(args.conf);
  const auto& prev = c.net.prevResult;
  // Every step runs whatever the others did (CNI spec: release all that can be found); the first
  // failure is what DEL reports, and the runtime's retry finds the rest done.
  std::optional<CniError> first;
  auto step = [&](CniStatus s) {
    if (!s && !first) first = std::move(s).error();
  };
  if (!c.net.ipamType.empty()) step(env.ipamExec("DEL", c.net.ipamType, args.stdinData));
  if (c.ipMasq) step(removeUnusedMasqNets(env, prev));
  // macspoofchk's elements are keyed by the host end's name and the pod's MAC as ADD reported
  // them (the pod may have changed its MAC since, or its netns may be gone).
  std::string hostVeth;
  std::string podMac;
  if (c.macspoofchk && prev && prev->interfaces.size() > 2) {
    hostVeth = prev->interfaces[1].name;
    podMac = prev->interfaces[2].mac;
  }
  if (!args.netns.empty()) {
    step([&]() -> CniStatus {
      Netlink* pod = CNI_TRY(env.pod());
      if (pod == nullptr) return {};
      auto link = CNI_TRY(asCni(pod->linkByName(args.ifName)));
      if (!link) return {};
      if (podMac.empty()) podMac = formatMac(link->mac);
      // Deleting one end deletes the pair.
      return asCni(pod->deleteLink(link->index));
    }());
  }
  if (c.macspoofchk) {
    step([&]() -> CniStatus {
      Nft* nft = CNI_TRY(env.nft());
      if (!hostVeth.empty() && !podMac.empty()) {
        return asCni(nft->run(spoofDelBatch(hostVeth, podMac)));
      }
      // No prevResult: the attachment's elements are found by their comment.
      auto owner = attachmentOwner(args.containerId, args.ifName);
      return removeSpoofElements(*nft, [&](const std::string& o) { return o == owner; });
    }());
  }
  if (first) return std::unexpected(std::move(*first));
  return {};
}

CniStatus gcSpoofElements(Nft& nft, const std::vector<Attachment>& valid) {
  return removeSpoofElements(nft, [&](const std::string& o) {
    return std::none_of(valid.begin(), valid.end(), [&](const Attachment& a) {
      return o == attachmentOwner(a.containerID, a.ifname);
    });
  });
}

namespace {

// Every route of the result is in the container's table, through its interface and with the
// gateway ADD gave it (as the reference's ValidateExpectedRoute).
CniStatus checkRoutes(Netlink& pod, const LinkInfo& link, const PluginResult& prev) {
  auto have = CNI_TRY(asCni(pod.routes(0)));
  for (const auto& rt : prev.routes) {
    auto gw = rt.gw;
    if (!gw) {
      for (const auto& ip : prev.ips) {
        if (ip.address.ip().family() == rt.dst.ip().family() && ip.gateway) {
          gw = ip.gateway;
          break;
        }
      }
    }
    int table = rt.table.value_or(254);
    bool found = std::any_of(have.begin(), have.end(), [&](const RouteInfo& r) {
      return r.dst.canonical() == rt.dst.canonical() && r.table == table &&
             (r.oif == 0 || r.oif == link.index) && r.gw == gw;
    });
    if (!found) {
      return cniFail(kInternal, "{} lacks route {}{}", link.name, rt.dst.canonical().str(),
                     gw ? " via " + gw->str() : "");
    }
  }
  return {};
}

}  // namespace

CniStatus cmdCheck(Env& env, const CmdArgs& args) {
  auto c = CNI_TRY(parseBridgeConf(args.conf));
  if (!c.net.prevResult) return cniFail(kInvalidNetworkConfig, "prevResult: required for CHECK");
  if (!c.net.ipamType.empty()) CNI_TRY(env.ipamExec("CHECK", c.net.ipamType, args.stdinData));
  auto br = CNI_TRY(asCni(env.host->linkByName(c.bridge)));
  if (!br || br->kind != "bridge") return cniFail(kInternal, "bridge {} is missing", c.bridge);
  Netlink* pod = CNI_TRY(env.pod());
  if (pod == nullptr) return cniFail(kInternal, "netns {} does not exist", args.netns);
  auto link = CNI_TRY(asCni(pod->linkByName(args.ifName)));
  if (!link) return cniFail(kInternal, "{} is missing in the container", args.ifName);
  if (!link->up()) return cniFail(kInternal, "{} is down", args.ifName);
  auto have = CNI_TRY(asCni(pod->addresses(link->index, 0)));
  for (const auto& ip : c.net.prevResult->ips) {
    if (std::find(have.begin(), have.end(), ip.address) == have.end()) {
      return cniFail(kInternal, "{} lacks address {}", args.ifName, ip.address.str());
    }
  }
  if (c.mtu > 0 && link->mtu != c.mtu) {
    return cniFail(kInternal, "{} has MTU {}, the config says {}", args.ifName, link->mtu, c.mtu);
  }
  const auto& ifs = c.net.prevResult->interfaces;
  if (ifs.size() > 1) {
    auto hostVeth = CNI_TRY(asCni(env.host->linkByName(ifs[1].name)));
    if (!hostVeth || hostVeth->master != br->index) {
      return cniFail(kInternal, "{} is not a port of bridge {}", ifs[1].name, c.bridge);
    }
    if (c.mtu > 0 && hostVeth->mtu != c.mtu) {
      return cniFail(kInternal, "{} has MTU {}, the config says {}", ifs[1].name, hostVeth->mtu,
                     c.mtu);
    }
  }
  return checkRoutes(*pod, *link, *c.net.prevResult);
}

namespace {

std::string randomVethName() {
  uint32_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) r = 0;
  if (r == 0) r = static_cast<uint32_t>(::getpid()) * 2654435761u;
  return fmt::format("veth{:08x}", r);
}

bool isOwnHostLocal(const std::string& type, const std::string& cniPath) {
  if (type != "host-local") return false;
  auto found = findPlugin(type, cniPath);
  if (!found) return false;
  std::error_code ec;
  auto plugin = std::filesystem::canonical(*found, ec);
  if (ec) return false;
  auto self = std::filesystem::canonical("/proc/self/exe", ec);
  return !ec && plugin.parent_path() == self.parent_path();
}

// The real Env for one invocation.
struct RealEnv {
  std::unique_ptr<MnlNetlink> host;
  std::unique_ptr<MnlNetlink> pod;
  std::optional<NetNs> podNs;
  std::unique_ptr<LibNftables> nft;
  Env env;

  CniStatus init(const CmdArgs& args) {
    host = CNI_TRY(asCni(MnlNetlink::open()));
    env.host = host.get();
    if (!args.netns.empty()) {
      auto ns = NetNs::open(args.netns);
      if (ns) {
        podNs = std::move(*ns);
        env.podNetnsFd = podNs->fd();
      } else if (ns.error().sysErrno() != ENOENT) {
        return cniFail(kInternal, "{}", ns.error().message());
      }
    }
    env.pod = [this, netns = args.netns]() -> CniResult<Netlink*> {
      if (!podNs) return nullptr;
      if (!pod) pod = CNI_TRY(asCni(MnlNetlink::openIn(*podNs)));
      return pod.get();
    };
    // Our own host-local (the one CNI_PATH resolves to sits beside this binary) runs in-process:
    // the same code and store, without a fork and exec per ADD/DEL.
    env.ipamAdd = [args](const std::string& type, const std::string& conf) {
      if (isOwnHostLocal(type, args.path)) return hostlocal::cmdAdd(args);
      return ipamAdd(type, conf);
    };
    env.ipamExec = [args](const std::string& cmd, const std::string& type,
                          const std::string& conf) -> CniStatus {
      if (isOwnHostLocal(type, args.path)) {
        if (cmd == "DEL") return hostlocal::cmdDel(args);
        if (cmd == "CHECK") return hostlocal::cmdCheck(args);
      }
      return ipamExec(cmd, type, conf);
    };
    env.ipamLocked = [args](bool wantContents, const Env::InUseFn& fn) -> CniStatus {
      auto type = args.conf.ipamType;
      if (!isOwnHostLocal(type, args.path)) return fn(std::nullopt);
      return hostlocal::withStoreLocked(args, wantContents, fn);
    };
    env.nft = [this]() -> CniResult<Nft*> {
      if (!nft) nft = CNI_TRY(asCni(LibNftables::create()));
      return nft.get();
    };
    env.hostSysctl = writeSysctl;
    env.vethName = randomVethName;
    return {};
  }
};

}  // namespace

Plugin plugin() {
  Plugin p;
  p.about = "berth bridge plugin " BERTH_VERSION " (CNI 1.1)";
  p.add = [](const CmdArgs& a) -> CniResult<PluginResult> {
    RealEnv real;
    CNI_TRY(real.init(a));
    return cmdAdd(real.env, a);
  };
  p.del = [](const CmdArgs& a) -> CniStatus {
    RealEnv real;
    CNI_TRY(real.init(a));
    return cmdDel(real.env, a);
  };
  p.check = [](const CmdArgs& a) -> CniStatus {
    RealEnv real;
    CNI_TRY(real.init(a));
    return cmdCheck(real.env, a);
  };
  p.status = [](const CmdArgs& a) -> CniStatus {
    if (a.conf.ipamType.empty()) return {};
    return ipamExec("STATUS", a.conf.ipamType, a.stdinData);
  };
  p.gc = [](const CmdArgs& a) -> CniStatus {
    if (!a.conf.ipamType.empty()) CNI_TRY(ipamExec("GC", a.conf.ipamType, a.stdinData));
    auto nft = CNI_TRY(asCni(LibNftables::create()));
    return gcSpoofElements(*nft, a.conf.validAttachments);
  };
  return p;
}

}  // namespace berth::cni::bridge
