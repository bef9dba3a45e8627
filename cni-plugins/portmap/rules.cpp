#include "cni-plugins/portmap/rules.h"

#include <algorithm>

#include <fmt/format.h>

namespace berth::cni::portmap {

namespace {

const char* fam(const IpNet& n) {
  return n.ip().isV4() ? "4" : "6";
}

std::string mapName(const Mapping& m) {
  return fmt::format("hostports{}{}", fam(m.container), m.port.hostIP.empty() ? "" : "-ip");
}
// "tcp . 8080", or with the hostIP first.
std::string mapKey(const Mapping& m) {
  if (m.port.hostIP.empty()) return fmt::format("{} . {}", m.port.protocol, m.port.hostPort);
  return fmt::format("{} . {} . {}", m.port.hostIP, m.port.protocol, m.port.hostPort);
}
// "hostports4 { tcp . 8080 comment "id/eth0" : 10.0.0.2 . 80 }"
std::string mapElement(const Mapping& m) {
  return fmt::format("{} {{ {} comment \"{}\" : {} . {} }}", mapName(m), mapKey(m), m.owner,
                     m.container.ip().str(), m.port.containerPort);
}
std::string mapElementKey(const Mapping& m) {
  return fmt::format("{} {{ {} }}", mapName(m), mapKey(m));
}
std::string hairpinKey(const Mapping& m) {
  return fmt::format("{} . {}", m.container.canonical().str(), m.container.ip().str());
}
std::string hairpinElement(const Mapping& m) {
  return fmt::format("hairpin{} {{ {} comment \"{}\" }}", fam(m.container), hairpinKey(m), m.owner);
}
std::string hairpinElementKey(const Mapping& m) {
  return fmt::format("hairpin{} {{ {} }}", fam(m.container), hairpinKey(m));
}

std::string skeleton() {
  return fmt::format(
      "add table inet {0}\n"
      "add map inet {0} hostports4 {{ type inet_proto . inet_service : ipv4_addr . inet_service; "
      "}}\n"
      "add map inet {0} hostports4-ip {{ type ipv4_addr . inet_proto . inet_service : ipv4_addr . "
      "inet_service; }}\n"
      "add map inet {0} hostports6 {{ type inet_proto . inet_service : ipv6_addr . inet_service; "
      "}}\n"
      "add map inet {0} hostports6-ip {{ type ipv6_addr . inet_proto . inet_service : ipv6_addr . "
      "inet_service; }}\n"
      "add set inet {0} hairpin4 {{ type ipv4_addr . ipv4_addr; flags interval; }}\n"
      "add set inet {0} hairpin6 {{ type ipv6_addr . ipv6_addr; flags interval; }}\n",
      kTable);
}

std::string chains() {
  return fmt::format(
      "add chain inet {0} hostport-dnat\n"
      "flush chain inet {0} hostport-dnat\n"
      "add rule inet {0} hostport-dnat meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th "
      "dport map @hostports4-ip\n"
      "add rule inet {0} hostport-dnat meta nfproto ipv4 dnat ip to meta l4proto . th dport map "
      "@hostports4\n"
      "add rule inet {0} hostport-dnat meta nfproto ipv6 dnat ip6 to ip6 daddr . meta l4proto . th "
      "dport map @hostports6-ip\n"
      "add rule inet {0} hostport-dnat meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map "
      "@hostports6\n"
      "add chain inet {0} hostport-prerouting {{ type nat hook prerouting priority dstnat; }}\n"
      "flush chain inet {0} hostport-prerouting\n"
      "add rule inet {0} hostport-prerouting fib daddr type local jump hostport-dnat\n"
      "add chain inet {0} hostport-output {{ type nat hook output priority -100; }}\n"
      "flush chain inet {0} hostport-output\n"
      "add rule inet {0} hostport-output fib daddr type local jump hostport-dnat\n"
      "add chain inet {0} hostport-postrouting {{ type nat hook postrouting priority srcnat; }}\n"
      "flush chain inet {0} hostport-postrouting\n"
      "add rule inet {0} hostport-postrouting ct status dnat ip saddr 127.0.0.0/8 masquerade\n"
      "add rule inet {0} hostport-postrouting ct status dnat ip saddr . ip daddr @hairpin4 "
      "masquerade\n"
      "add rule inet {0} hostport-postrouting ct status dnat ip6 saddr . ip6 daddr @hairpin6 "
      "masquerade\n",
      kTable);
}

}  // namespace

std::vector<Mapping> mappingsFor(const std::vector<PortMapping>& ports,
                                 const std::vector<IpNet>& containerIps, const std::string& owner) {
  std::vector<Mapping> out;
  for (const auto& p : ports) {
    auto hostIp = p.hostIP.empty() ? std::nullopt : IpAddr::parse(p.hostIP);
    for (const auto& ip : containerIps) {
      if (hostIp && hostIp->family() != ip.ip().family()) continue;
      out.push_back({p, ip, owner});
    }
  }
  return out;
}

std::string addElements(const std::vector<Mapping>& ms, bool snat) {
  std::string b;
  std::vector<std::string> hairpins;
  for (const auto& m : ms) {
    b += fmt::format("add element inet {} {}\n", kTable, mapElement(m));
    auto e = hairpinElement(m);
    if (snat && std::find(hairpins.begin(), hairpins.end(), e) == hairpins.end()) {
      hairpins.push_back(e);
      b += fmt::format("add element inet {} {}\n", kTable, e);
    }
  }
  return b;
}

std::string addBatch(const std::vector<Mapping>& ms, bool snat) {
  return skeleton() + chains() + addElements(ms, snat);
}

std::string delElements(const std::vector<Mapping>& ms, bool snat) {
  std::string b;
  for (const auto& m : ms) {
    b += fmt::format("delete element inet {} {}\n", kTable, mapElementKey(m));
  }
  // A pod's hairpin element goes with its last mapping (the same element for every port).
  if (snat) {
    std::vector<std::string> seen;
    for (const auto& m : ms) {
      auto e = hairpinElementKey(m);
      if (std::find(seen.begin(), seen.end(), e) != seen.end()) continue;
      seen.push_back(e);
      b += fmt::format("delete element inet {} {}\n", kTable, e);
    }
  }
  return b;
}

std::string delBatch(const std::vector<Mapping>& ms, bool snat) {
  // Adding first makes each delete succeed when the element (or the table) is already gone.
  return skeleton() + addElements(ms, snat) + delElements(ms, snat);
}

namespace {

// Concatenation fields take whole 32-bit registers: each is padded to 4 bytes.
void putField(std::vector<uint8_t>& out, const uint8_t* p, size_t n) {
  out.insert(out.end(), p, p + n);
  out.resize(out.size() + (4 - n % 4) % 4, 0);
}
void putAddr(std::vector<uint8_t>& out, const IpAddr& ip) {
  putField(out, ip.data(), ip.size());
}
void putPort(std::vector<uint8_t>& out, int port) {
  uint8_t be[2] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port & 0xff)};
  putField(out, be, 2);
}
void putProto(std::vector<uint8_t>& out, const std::string& protocol) {
  uint8_t p = protocol == "udp" ? 17 : protocol == "sctp" ? 132 : 6;
  putField(out, &p, 1);
}

}  // namespace

std::vector<NftElement> nftElements(const std::vector<Mapping>& ms, bool snat) {
  std::vector<NftElement> out;
  for (const auto& m : ms) {
    NftElement e;
    e.set = mapName(m);
    if (!m.port.hostIP.empty()) {
      if (auto host = IpAddr::parse(m.port.hostIP)) putAddr(e.key, *host);
    }
    putProto(e.key, m.port.protocol);
    putPort(e.key, m.port.hostPort);
    putAddr(e.data, m.container.ip());
    putPort(e.data, m.port.containerPort);
    e.comment = m.owner;
    out.push_back(std::move(e));
  }
  if (!snat) return out;
  // One hairpin element per pod address: subnet . address, as an interval of the subnet.
  for (const auto& m : ms) {
    NftElement e;
    e.set = fmt::format("hairpin{}", fam(m.container));
    putAddr(e.key, m.container.network());
    putAddr(e.key, m.container.ip());
    putAddr(e.keyEnd, m.container.broadcast());
    putAddr(e.keyEnd, m.container.ip());
    e.comment = m.owner;
    bool seen = std::any_of(out.begin(), out.end(), [&](const NftElement& o) {
      return o.set == e.set && o.key == e.key && o.keyEnd == e.keyEnd;
    });
    if (!seen) out.push_back(std::move(e));
  }
  return out;
}

std::string mappingSet(const Mapping& m) {
  return mapName(m);
}
std::string mappingKey(const Mapping& m) {
  return mapKey(m);
}

bool isPortmapSet(std::string_view name) {
  return name.starts_with("hostports") || name.starts_with("hairpin");
}

}  // namespace berth::cni::portmap
