#include "cni-plugins/bridge/nft_rules.h"

#include <fmt/format.h>

namespace berth::cni::bridge {

namespace {

// FNV-1a, printed as 8 hex digits: stable across runs and versions (it names chains on disk).
std::string shortHash(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return fmt::format("{:08x}", h);
}

std::string base() {
  return fmt::format(
      "add table inet {0}\n"
      "add map inet {0} masq4 {{ type ipv4_addr : verdict; }}\n"
      "add map inet {0} masq6 {{ type ipv6_addr : verdict; }}\n"
      "add chain inet {0} postrouting {{ type nat hook postrouting priority srcnat; }}\n"
      "flush chain inet {0} postrouting\n"
      "add rule inet {0} postrouting ip saddr vmap @masq4\n"
      "add rule inet {0} postrouting ip6 saddr vmap @masq6\n",
      kTable);
}

std::string element(const IpNet& a, const std::string& chain) {
  return fmt::format("{{ {} : jump {} }}", a.ip().str(), chain);
}

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

std::string masqChain(const std::string& network) {
  return "masq-" + shortHash(network);
}

std::string masqAddBatch(const std::string& network, const std::vector<IpNet>& podAddresses) {
  std::string chain = masqChain(network);
  std::string b = base();
  b += fmt::format("add chain inet {0} {1}\nflush chain inet {0} {1}\n", kTable, chain);
  for (const auto& a : podAddresses) {
    b += fmt::format("add rule inet {} {} {} daddr {} return\n", kTable, chain,
                     a.ip().isV4() ? "ip" : "ip6", a.canonical().str());
  }
  b += fmt::format("add rule inet {0} {1} ip daddr 224.0.0.0/4 return\n", kTable, chain);
  b += fmt::format("add rule inet {0} {1} ip6 daddr ff00::/8 return\n", kTable, chain);
  b += fmt::format("add rule inet {0} {1} masquerade comment \"{2}\"\n", kTable, chain,
                   network.substr(0, 100));
  for (const auto& a : podAddresses) {
    b += fmt::format("add element inet {} {} {}\n", kTable, a.ip().isV4() ? "masq4" : "masq6",
                     element(a, chain));
  }
  return b;
}

std::string masqAddElements(const std::string& network, const std::vector<IpNet>& podAddresses) {
  std::string chain = masqChain(network);
  std::string b;
  for (const auto& a : podAddresses) {
    b += fmt::format("add element inet {} {} {}\n", kTable, a.ip().isV4() ? "masq4" : "masq6",
                     element(a, chain));
  }
  return b;
}

std::string masqDelElements(const std::vector<IpNet>& podAddresses) {
  std::string b;
  for (const auto& a : podAddresses) {
    b += fmt::format("delete element inet {} {} {{ {} }}\n", kTable,
                     a.ip().isV4() ? "masq4" : "masq6", a.ip().str());
  }
  return b;
}

std::string masqDelBatch(const std::string& network, const std::vector<IpNet>& podAddresses) {
  // nft 1.0.6 has no "destroy": adding the element first makes the delete always succeed.
  std::string chain = masqChain(network);
  std::string b = fmt::format(
      "add table inet {0}\n"
      "add map inet {0} masq4 {{ type ipv4_addr : verdict; }}\n"
      "add map inet {0} masq6 {{ type ipv6_addr : verdict; }}\n"
      "add chain inet {0} {1}\n",
      kTable, chain);
  for (const auto& a : podAddresses) {
    const char* map = a.ip().isV4() ? "masq4" : "masq6";
    b += fmt::format("add element inet {} {} {}\n", kTable, map, element(a, chain));
    b += fmt::format("delete element inet {} {} {}\n", kTable, map, element(a, chain));
  }
  return b;
}

std::string spoofAddBatch(const std::string& hostVeth, const std::string& mac) {
  return bridgeBase() + fmt::format(
                            "add element bridge {0} spoof-ok {{ \"{1}\" . {2} }}\n"
                            "add element bridge {0} spoof-ports {{ \"{1}\" }}\n",
                            kBridgeTable, hostVeth, mac);
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
