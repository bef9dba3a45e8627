#include "cni-plugins/portmap/portmap.h"

#include <unistd.h>

#include <algorithm>
#include <memory>

#include "cni-plugins/cni/config_json.h"
#include "cni-plugins/portmap/rules.h"
#include "common/netlink.h"
#include "ocispec/json_reader.h"

namespace berth::cni::portmap {

namespace {

// The pod's addresses: those on an interface inside the sandbox (or all without indexes).
std::vector<IpNet> containerIps(const PluginResult& r) {
  std::vector<IpNet> out;
  for (const auto& ip : r.ips) {
    if (ip.interface && *ip.interface >= 0 &&
        static_cast<size_t>(*ip.interface) < r.interfaces.size() &&
        r.interfaces[*ip.interface].sandbox.empty()) {
      continue;
    }
    out.push_back(ip.address);
  }
  return out;
}

std::string owner(const CmdArgs& args) {
  return args.containerId + "/" + args.ifName;
}

// Deletes every element of ours whose owner matches; no table means nothing to delete.
template <class Pred>
CniStatus removeOwned(Env& env, Pred&& matches) {
  Nft* nft = CNI_TRY(env.nft());
  auto text = nft->listJson("list table inet berth-cni");
  if (!text) return {};
  auto listing = Json::parse(*text, nullptr, false);
  std::vector<OwnedElement> doomed;
  for (auto& e : ownedElements(listing, isPortmapSet)) {
    if (matches(e.owner)) doomed.push_back(std::move(e));
  }
  if (doomed.empty()) return {};
  return asCni(nft->run(deleteElements(doomed)));
}

}  // namespace

CniStatus cmdGc(Env& env, const CmdArgs& args) {
  const auto& valid = args.conf.validAttachments;
  return removeOwned(env, [&](const std::string& o) {
    return std::none_of(valid.begin(), valid.end(),
                        [&](const Attachment& a) { return o == a.containerID + "/" + a.ifname; });
  });
}

CniResult<PortmapConf> parsePortmapConf(const NetConf& net) {
  PortmapConf c;
  auto r = CNI_TRY(asCni(openConfig(net.raw, "")));
  CNI_TRY(asCni(r.optional("snat", c.snat)));
  for (const char* key : {"conditionsV4", "conditionsV6"}) {
    if (r.has(key)) {
      return cniFail(kUnsupportedField, "{}: iptables conditions are not supported (nftables)",
                     key);
    }
  }
  return c;
}

CniResult<PluginResult> cmdAdd(Env& env, const CmdArgs& args) {
  auto c = CNI_TRY(parsePortmapConf(args.conf));
  if (!args.conf.prevResult) {
    return cniFail(kInvalidNetworkConfig, "prevResult: must be called as a chained plugin");
  }
  const auto& prev = *args.conf.prevResult;
  const auto& ports = args.conf.runtimeConfig.portMappings;
  if (ports.empty()) return prev;
  auto ms = mappingsFor(ports, containerIps(prev), owner(args));
  if (ms.empty()) return prev;

  // Localhost DNAT: packets from 127.0.0.1 may be routed out of the host's interfaces.
  bool localhost = false;
  for (const auto& m : ms) {
    if (m.container.ip().isV4() && (m.port.hostIP.empty() || m.port.hostIP.starts_with("127."))) {
      localhost = true;
    }
  }
  if (localhost && c.snat) {
    for (const auto& i : prev.interfaces) {
      if (!i.sandbox.empty() || i.name.empty()) continue;
      std::string key = "net.ipv4.conf." + i.name + ".route_localnet";
      if (::access(("/proc/sys/net/ipv4/conf/" + i.name).c_str(), F_OK) != 0) continue;
      CNI_TRY(asCni(env.sysctl(key, "1")));
    }
  }
  Nft* nft = CNI_TRY(env.nft());
  // The elements straight over nfnetlink; when that fails (no table yet, a conflict, a fake),
  // the nft text path, which creates the table or says what is wrong.
  if (nft->addElements("inet", kTable, nftElements(ms, c.snat))) return prev;
  if (!nft->run(addElements(ms, c.snat))) {
    auto full = nft->run(addBatch(ms, c.snat));
    if (!full) {
      return cniFail(kInternal, "hostPort mapping for {}: {}", args.containerId,
                     full.error().message());
    }
  }
  return prev;
}

CniStatus cmdDel(Env& env, const CmdArgs& args) {
  auto c = parsePortmapConf(args.conf);
  // Without the mappings and addresses (a runtime that lost them, a runtimeConfig or prevResult
  // that did not parse), or with a config that does not parse, the attachment's elements are
  // found by their comment: DEL cleans up whatever ADD made of the config.
  if (!c || !args.conf.prevResult || args.conf.runtimeConfig.portMappings.empty()) {
    return removeOwned(env, [&](const std::string& o) { return o == owner(args); });
  }
  auto ms = mappingsFor(args.conf.runtimeConfig.portMappings, containerIps(*args.conf.prevResult),
                        owner(args));
  if (ms.empty()) return {};
  Nft* nft = CNI_TRY(env.nft());
  if (nft->deleteElements("inet", kTable, nftElements(ms, c->snat))) return {};
  if (!nft->run(delElements(ms, c->snat))) CNI_TRY(asCni(nft->run(delBatch(ms, c->snat))));
  return {};
}

CniStatus cmdCheck(Env& env, const CmdArgs& args) {
  CNI_TRY(parsePortmapConf(args.conf));
  if (!args.conf.prevResult) {
    return cniFail(kInvalidNetworkConfig, "prevResult: must be called as a chained plugin");
  }
  auto ms = mappingsFor(args.conf.runtimeConfig.portMappings, containerIps(*args.conf.prevResult),
                        owner(args));
  if (ms.empty()) return {};
  Nft* nft = CNI_TRY(env.nft());
  auto text = nft->listJson("list table inet berth-cni");
  auto owned = text ? ownedElements(Json::parse(*text, nullptr, false), isPortmapSet)
                    : std::vector<OwnedElement>{};
  for (const auto& m : ms) {
    bool found = std::any_of(owned.begin(), owned.end(), [&](const OwnedElement& e) {
      return e.owner == m.owner && e.set == mappingSet(m) && e.key == mappingKey(m);
    });
    if (!found) {
      return cniFail(kInternal, "hostPort {}/{} to {}:{} is not mapped", m.port.hostPort,
                     m.port.protocol, m.container.ip().str(), m.port.containerPort);
    }
  }
  return {};
}

Plugin plugin() {
  struct Real {
    std::unique_ptr<LibNftables> nft;
    Env env;
    Real() {
      env.nft = [this]() -> CniResult<Nft*> {
        if (!nft) nft = CNI_TRY(asCni(LibNftables::create()));
        return nft.get();
      };
      env.sysctl = writeSysctl;
    }
  };
  Plugin p;
  p.about = "berth portmap plugin " BERTH_VERSION " (CNI 1.1, nftables)";
  p.add = [](const CmdArgs& a) -> CniResult<PluginResult> {
    Real r;
    return cmdAdd(r.env, a);
  };
  p.del = [](const CmdArgs& a) -> CniStatus {
    Real r;
    return cmdDel(r.env, a);
  };
  p.check = [](const CmdArgs& a) -> CniStatus {
    Real r;
    return cmdCheck(r.env, a);
  };
  p.gc = [](const CmdArgs& a) -> CniStatus {
    Real r;
    return cmdGc(r.env, a);
  };
  p.status = [](const CmdArgs&) -> CniStatus {
    // Available when nftables answers.
    Real r;
    auto nft = r.env.nft();
    if (!nft) return cniFail(kNotAvailable, "portmap: {}", nft.error().msg);
    if (auto l = (*nft)->listJson("list tables"); !l) {
      return cniFail(kNotAvailable, "portmap: {}", l.error().message());
    }
    return {};
  };
  return p;
}

}  // namespace berth::cni::portmap
