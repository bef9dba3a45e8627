#include "cni-plugins/bridge/nft_rules.h"

#include <fmt/format.h>

namespace berth::cni::bridge {

namespace {

std::string bridgeBase() {
  return fmt::format(
      "add table bridge {0}\n"
      "add set bridge {0} spoof-ports {{ type ifname; }}\n"
      "add set bridge {0} spoof-ok {{ type ifname . ether_addr; }}\n"
      "add chain bridge {0} spoofcheck {{ type filter hook prerouting priority -300; }}\n"
      "flush chain bridge {0} spoofcheck\n"
      "add rule bridge {0} spoofcheck iifname . ether saddr @spoof-ok return\n"
      "add rule bridge {0} spoofcheck iifname @spoof-ports drop\n",
      kBridgeTable);
}

}  // namespace

std::string masqAddElements(const std::vector<IpNet>& podAddresses) {
  std::string b;
  for (const auto& a : podAddresses) {
    b += fmt::format("add element inet {} masq-nets{} {{ {} }}\n", kTable,
                     a.ip().isV4() ? "4" : "6", a.canonical().str());
  }
  return b;
}

std::vector<NftElement> masqElements(const std::vector<IpNet>& podAddresses) {
  std::vector<NftElement> out;
  for (const auto& a : podAddresses) {
    std::string set = fmt::format("masq-nets{}", a.ip().isV4() ? "4" : "6");
    IpAddr first = a.network();
    NftElement start{set, {first.data(), first.data() + first.size()}, {}, {}, "", false};
    out.push_back(std::move(start));
    // A subnet reaching the top of the address space has no end element.
    IpAddr end = a.broadcast().next();
    if (end > first) {
      NftElement e{set, {end.data(), end.data() + end.size()}, {}, {}, "", true};
      out.push_back(std::move(e));
    }
  }
  return out;
}

std::string masqAddBatch(const std::vector<IpNet>& podAddresses) {
  return fmt::format(
             "add table inet {0}\n"
             "add set inet {0} masq-nets4 {{ type ipv4_addr; flags interval; }}\n"
             "add set inet {0} masq-nets6 {{ type ipv6_addr; flags interval; }}\n"
             "add chain inet {0} postrouting {{ type nat hook postrouting priority srcnat; }}\n"
             "flush chain inet {0} postrouting\n"
             "add rule inet {0} postrouting ip saddr @masq-nets4 ip daddr != 224.0.0.0/4 "
             "ip daddr != @masq-nets4 masquerade\n"
             "add rule inet {0} postrouting ip6 saddr @masq-nets6 ip6 daddr != ff00::/8 "
             "ip6 daddr != @masq-nets6 masquerade\n",
             kTable) +
         masqAddElements(podAddresses);
}

std::string spoofAddBatch(const std::string& hostVeth, const std::string& mac,
                          const std::string& owner) {
  return bridgeBase() + fmt::format(
                            "add element bridge {0} spoof-ok {{ \"{1}\" . {2} comment \"{3}\" }}\n"
                            "add element bridge {0} spoof-ports {{ \"{1}\" comment \"{3}\" }}\n",
                            kBridgeTable, hostVeth, mac, owner);
}

std::string spoofDelBatch(const std::string& hostVeth, const std::string& mac) {
  return fmt::format(
      "add table bridge {0}\n"
      "add set bridge {0} spoof-ports {{ type ifname; }}\n"
      "add set bridge {0} spoof-ok {{ type ifname . ether_addr; }}\n"
      "add element bridge {0} spoof-ok {{ \"{1}\" . {2} }}\n"
      "delete element bridge {0} spoof-ok {{ \"{1}\" . {2} }}\n"
      "add element bridge {0} spoof-ports {{ \"{1}\" }}\n"
      "delete element bridge {0} spoof-ports {{ \"{1}\" }}\n",
      kBridgeTable, hostVeth, mac);
}

}  // namespace berth::cni::bridge
