#pragma once
// An in-memory Netlink for unit tests of plugin logic: links, addresses, routes and neighbours
// as plain tables, with a log of the calls made. Links moved to another namespace disappear
// from this one (that is all a plugin can observe).

#include <net/if.h>
#include <algorithm>
#include <map>

#include "common/netlink.h"

namespace berth {

class FakeNetlink : public Netlink {
 public:
  std::map<int, LinkInfo> linkTable;
  std::map<int, std::vector<IpNet>> addressTable;
  std::vector<RouteSpec> routeTable;
  std::vector<NeighSpec> neighTable;
  std::vector<std::string> calls;
  std::map<int, bool> hairpin;
  std::map<int, int> vlan;
  int nextIndex = 1;
  // A call whose log entry starts with this fails with EPERM.
  std::string failOn;

  int addLink(std::string name, std::string kind = "") {
    LinkInfo l;
    l.index = nextIndex++;
    l.name = std::move(name);
    l.kind = std::move(kind);
    l.mtu = 1500;
    l.mac = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(l.index)};
    linkTable[l.index] = l;
    return l.index;
  }

  Result<std::optional<LinkInfo>> linkByName(const std::string& name) override {
    for (const auto& [i, l] : linkTable) {
      if (l.name == name) return l;
    }
    return std::nullopt;
  }
  Result<std::optional<LinkInfo>> linkByIndex(int index) override {
    auto it = linkTable.find(index);
    if (it == linkTable.end()) return std::nullopt;
    return it->second;
  }
  Result<std::vector<LinkInfo>> links() override {
    std::vector<LinkInfo> out;
    for (const auto& [i, l] : linkTable)
      out.push_back(l);
    return out;
  }
  Status createVeth(const VethSpec& s) override {
    BERTH_TRY(record("createVeth " + s.name));
    if (linkByName(s.name)->has_value()) return failErrno(EEXIST, "create veth " + s.name);
    int i = addLink(s.name, "veth");
    if (s.mtu) linkTable[i].mtu = s.mtu;
    if (s.peerNetnsFd < 0) addLink(s.peerName, "veth");
    return {};
  }
  Status createBridge(const BridgeSpec& s) override {
    BERTH_TRY(record("createBridge " + s.name));
    if (linkByName(s.name)->has_value()) return failErrno(EEXIST, "create bridge " + s.name);
    int i = addLink(s.name, "bridge");
    if (s.mtu) linkTable[i].mtu = s.mtu;
    return {};
  }
  Status createVxlan(const VxlanSpec& s) override {
    BERTH_TRY(record("createVxlan " + s.name));
    int i = addLink(s.name, "vxlan");
    if (s.mtu) linkTable[i].mtu = s.mtu;
    return {};
  }
  Status deleteLink(int index) override {
    BERTH_TRY(record(fmt::format("deleteLink {}", index)));
    linkTable.erase(index);
    addressTable.erase(index);
    return {};
  }
  Status setUp(int index, bool up) override {
    BERTH_TRY(record(fmt::format("setUp {} {}", index, up)));
    LinkInfo& l = *BERTH_TRY(linkPtr(index));
    l.flags = up ? (l.flags | IFF_UP) : (l.flags & ~unsigned{IFF_UP});
    return {};
  }
  Status setMtu(int index, int mtu) override {
    BERTH_TRY(record(fmt::format("setMtu {} {}", index, mtu)));
    BERTH_TRY(linkPtr(index))->mtu = mtu;
    return {};
  }
  Status setMac(int index, const MacAddr& mac) override {
    BERTH_TRY(record(fmt::format("setMac {} {}", index, formatMac(mac))));
    BERTH_TRY(linkPtr(index))->mac = mac;
    return {};
  }
  Status setPromisc(int index, bool on) override {
    BERTH_TRY(record(fmt::format("setPromisc {} {}", index, on)));
    LinkInfo& l = *BERTH_TRY(linkPtr(index));
    l.flags = on ? (l.flags | IFF_PROMISC) : (l.flags & ~unsigned{IFF_PROMISC});
    return {};
  }
  Status setMaster(int index, int master) override {
    BERTH_TRY(record(fmt::format("setMaster {} {}", index, master)));
    BERTH_TRY(linkPtr(index))->master = master;
    return {};
  }
  Status setNetns(int index, int) override {
    BERTH_TRY(record(fmt::format("setNetns {}", index)));
    linkTable.erase(index);
    return {};
  }
  Status setHairpin(int index, bool on) override {
    BERTH_TRY(record(fmt::format("setHairpin {} {}", index, on)));
    hairpin[index] = on;
    return {};
  }
  Status setPortVlan(int index, int vid) override {
    BERTH_TRY(record(fmt::format("setPortVlan {} {}", index, vid)));
    vlan[index] = vid;
    return {};
  }
  Status addAddress(int index, const IpNet& a) override {
    BERTH_TRY(record(fmt::format("addAddress {} {}", index, a.str())));
    auto& v = addressTable[index];
    if (std::find(v.begin(), v.end(), a) == v.end()) v.push_back(a);
    return {};
  }
  Status deleteAddress(int index, const IpNet& a) override {
    BERTH_TRY(record(fmt::format("deleteAddress {} {}", index, a.str())));
    auto& v = addressTable[index];
    v.erase(std::remove(v.begin(), v.end(), a), v.end());
    return {};
  }
  Result<std::vector<IpNet>> addresses(int index, int family) override {
    std::vector<IpNet> out;
    for (const auto& a : addressTable[index]) {
      if (family == 0 || a.ip().family() == family) out.push_back(a);
    }
    return out;
  }
  Status addRoute(const RouteSpec& r) override {
    BERTH_TRY(record("addRoute " + r.dst.str()));
    routeTable.push_back(r);
    return {};
  }
  Status deleteRoute(const RouteSpec& r) override {
    BERTH_TRY(record("deleteRoute " + r.dst.str()));
    std::erase_if(routeTable, [&](const RouteSpec& x) { return x.dst == r.dst && x.gw == r.gw; });
    return {};
  }
  Result<std::vector<RouteInfo>> routes(int family) override {
    std::vector<RouteInfo> out;
    for (const auto& r : routeTable) {
      if (family == 0 || r.dst.ip().family() == family) out.push_back({r.dst, r.gw, r.oif, 254});
    }
    return out;
  }
  Status addNeigh(const NeighSpec& n) override {
    BERTH_TRY(record("addNeigh " + formatMac(n.mac)));
    neighTable.push_back(n);
    return {};
  }
  Status deleteNeigh(const NeighSpec& n) override {
    BERTH_TRY(record("deleteNeigh " + formatMac(n.mac)));
    std::erase_if(neighTable, [&](const NeighSpec& x) {
      return x.index == n.index && x.mac == n.mac && x.fdb == n.fdb;
    });
    return {};
  }

 private:
  Status record(std::string call) {
    bool fails = !failOn.empty() && call.starts_with(failOn);
    calls.push_back(std::move(call));
    if (fails) return failErrno(EPERM, calls.back());
    return {};
  }
  Result<LinkInfo*> linkPtr(int index) {
    auto it = linkTable.find(index);
    if (it == linkTable.end()) return failErrno(ENODEV, fmt::format("link {}", index));
    return &it->second;
  }
};

}  // namespace berth
