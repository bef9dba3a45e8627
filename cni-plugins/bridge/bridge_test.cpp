#include "cni-plugins/bridge/bridge.h"

#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "cni-plugins/bridge/nft_rules.h"
#include "common/netlink_fake.h"

namespace berth::cni::bridge {
namespace {

class FakeNft : public Nft {
 public:
  std::vector<std::string> batches;
  bool failElementsOnly = false;
  Status run(std::string_view batch) override {
    batches.emplace_back(batch);
    if (failElementsOnly && !batch.starts_with("add table") && !batch.empty()) {
      return fail(Code::kNotFound, "No such file or directory");
    }
    return {};
  }
  Result<std::string> listJson(std::string_view) override { return std::string("{}"); }
  std::vector<std::string> deleted;
  Status deleteElements(std::string_view, std::string_view,
                        std::span<const NftElement> els) override {
    for (const auto& e : els)
      deleted.push_back(
          fmt::format("{} {}{}", e.set, fmt::join(e.key, "."), e.intervalEnd ? " end" : ""));
    return {};
  }
};

class BridgeLogic : public ::testing::Test {
 protected:
  void SetUp() override {
    podLo_ = pod_.addLink("lo");
    env_.host = &host_;
    env_.pod = [this]() -> CniResult<Netlink*> { return &pod_; };
    env_.ipamAdd = [this](const std::string& type, const std::string&) -> CniResult<PluginResult> {
      ipamCalls_.push_back("ADD " + type);
      if (!ipamError_.empty()) return cniFail(kInternal, ipamError_);
      PluginResult r;
      r.ips.push_back({*IpNet::parse("10.5.0.7/24"), std::nullopt, std::nullopt});
      r.routes.push_back({*IpNet::parse("0.0.0.0/0"), std::nullopt});
      return r;
    };
    env_.ipamExec = [this](const std::string& cmd, const std::string& type,
                           const std::string&) -> CniStatus {
      ipamCalls_.push_back(cmd + " " + type);
      return {};
    };
    env_.nft = [this]() -> CniResult<Nft*> { return &nft_; };
    env_.hostSysctl = [this](std::string_view k, std::string_view v) -> Status {
      sysctls_.push_back(std::string(k) + "=" + std::string(v));
      return {};
    };
    env_.vethName = [] { return std::string("veth0000abcd"); };
  }
  CmdArgs args(std::string_view extra) {
    CmdArgs a;
    a.containerId = "c1";
    a.netns = "/run/netns/p";
    a.ifName = "eth0";
    a.stdinData = fmt::format(
        R"({{"cniVersion": "1.1.0", "name": "net", "type": "bridge", "bridge": "br9",
            "ipam": {{"type": "host-local"}} {}}})",
        extra);
    a.conf = *parseNetConf(a.stdinData);
    return a;
  }
  FakeNetlink host_, pod_;
  FakeNft nft_;
  Env env_;
  int podLo_ = 0;
  std::vector<std::string> ipamCalls_, sysctls_;
  std::string ipamError_;
};

TEST(BridgeConfig, ParsesAndValidates) {
  auto ok = parseBridgeConf(*parseNetConf(R"({"cniVersion": "1.0.0", "name": "n",
      "type": "bridge", "isDefaultGateway": true, "mtu": 1450, "vlan": 7})"));
  ASSERT_TRUE(ok) << ok.error().msg;
  EXPECT_EQ(ok->bridge, "cni0");
  EXPECT_TRUE(ok->isGateway);
  EXPECT_EQ(ok->mtu, 1450);
  // Keys in any case, as the reference plugin reads them (Go's encoding/json).
  auto spelled = parseBridgeConf(*parseNetConf(R"({"cniVersion": "1.0.0", "name": "n",
      "type": "bridge", "Bridge": "br9", "IsGateway": true, "IPMasq": true, "MTU": 1400,
      "HairpinMode": true, "MacSpoofChk": true, "IPAM": {"Type": "host-local"}})"));
  ASSERT_TRUE(spelled) << spelled.error().msg;
  EXPECT_EQ(spelled->bridge, "br9");
  EXPECT_TRUE(spelled->isGateway);
  EXPECT_TRUE(spelled->ipMasq);
  EXPECT_EQ(spelled->mtu, 1400);
  EXPECT_TRUE(spelled->hairpinMode);
  EXPECT_TRUE(spelled->macspoofchk);
  EXPECT_EQ(spelled->net.ipamType, "host-local");
  struct Case {
    const char* extra;
    const char* msg;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"("vlan": -1)", "vlan: invalid VLAN ID -1"},
           {R"("mtu": 70000)", "mtu: 70000 is not a valid MTU"},
           {R"("isGateway": "yes")", "isGateway: must be a boolean"},
           {R"("bridge": "a/b")", "bridge: invalid interface name"},
           {R"("hairpinMode": true, "promiscMode": true)", "cannot set hairpin mode"},
       }) {
    auto r = parseBridgeConf(*parseNetConf(
        fmt::format(R"({{"cniVersion": "1.0.0", "name": "n", "type": "bridge", {}}})", c.extra)));
    ASSERT_FALSE(r) << c.extra;
    EXPECT_EQ(r.error().code, kInvalidNetworkConfig);
    EXPECT_NE(r.error().msg.find(c.msg), std::string::npos) << r.error().msg;
  }
}

TEST(BridgeNftRules, MasqueradeBySubnetInOneTable) {
  auto addrs = std::vector<IpNet>{*IpNet::parse("10.1.0.5/24"), *IpNet::parse("fd00::5/64")};
  EXPECT_EQ(masqAddElements(addrs),
            "add element inet berth-cni masq-nets4 { 10.1.0.0/24 }\n"
            "add element inet berth-cni masq-nets6 { fd00::/64 }\n");
  auto add = masqAddBatch(addrs);
  EXPECT_TRUE(add.starts_with("add table inet berth-cni\n"));
  EXPECT_NE(add.find("ip saddr @masq-nets4 ip daddr != 224.0.0.0/4 ip daddr != @masq-nets4 "
                     "masquerade"),
            std::string::npos);
  EXPECT_TRUE(add.ends_with(masqAddElements(addrs)));
  // The interval as the kernel holds it: its start, and an end element one past the subnet.
  auto els = masqElements(addrs);
  ASSERT_EQ(els.size(), 4u);
  EXPECT_EQ(els[0].set, "masq-nets4");
  EXPECT_EQ(els[0].key, (std::vector<uint8_t>{10, 1, 0, 0}));
  EXPECT_FALSE(els[0].intervalEnd);
  EXPECT_EQ(els[1].key, (std::vector<uint8_t>{10, 1, 1, 0}));
  EXPECT_TRUE(els[1].intervalEnd);
  EXPECT_EQ(els[2].set, "masq-nets6");
  EXPECT_EQ(els[3].key[7], 1);  // fd00:0:0:1::
  EXPECT_EQ(add.find("iptables"), std::string::npos);
  auto spoof = spoofAddBatch("veth1", "0a:00:00:00:00:01", "c1/eth0");
  EXPECT_NE(spoof.find("add element bridge berth-cni-bridge spoof-ok { \"veth1\" . "
                       "0a:00:00:00:00:01 comment \"c1/eth0\" }"),
            std::string::npos);
  EXPECT_NE(spoofDelBatch("veth1", "0a:00:00:00:00:01")
                .find("delete element bridge berth-cni-bridge spoof-ports { \"veth1\" }"),
            std::string::npos);
}

TEST_F(BridgeLogic, DelDelegatesToIpamEvenWithoutNetnsAndNeedsNoNft) {
  auto a = args(R"(, "ipMasq": true, "prevResult": {"cniVersion": "1.1.0",
      "ips": [{"address": "10.5.0.7/24"}]})");
  env_.pod = []() -> CniResult<Netlink*> { return nullptr; };  // the netns is gone
  ASSERT_TRUE(cmdDel(env_, a));
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_EQ(ipamCalls_, (std::vector<std::string>{"DEL host-local", "DEL host-local"}));
  EXPECT_TRUE(nft_.batches.empty());  // masquerade is per subnet: nothing per pod to remove
}

TEST_F(BridgeLogic, DelRemovesTheMasqueradedSubnetWithItsLastAddress) {
  auto a = args(R"(, "ipMasq": true, "prevResult": {"cniVersion": "1.1.0",
      "ips": [{"address": "10.5.0.7/24"}]})");
  env_.pod = []() -> CniResult<Netlink*> { return nullptr; };
  hostlocal::StoreContents store{.inUse = {*IpAddr::parse("10.5.0.9"), *IpAddr::parse("10.6.0.2")},
                                 .subnets = {*IpNet::parse("10.5.0.0/24")}};
  std::vector<bool> asked;
  env_.ipamLocked = [&](bool want, const Env::InUseFn& fn) -> CniStatus {
    asked.push_back(want);
    return fn(store);
  };
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_TRUE(nft_.deleted.empty());  // 10.5.0.9 still uses the subnet
  store.inUse.erase(store.inUse.begin());
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_EQ(nft_.deleted,
            (std::vector<std::string>{"masq-nets4 10.5.0.0", "masq-nets4 10.5.1.0 end"}));
  EXPECT_EQ(asked, (std::vector<bool>{true, true}));
}

// A runtime's DEL after a failed ADD has no prevResult: the network's subnets that no address
// uses any more leave the masquerade set (the ADD may have added the pod's before failing).
TEST_F(BridgeLogic, DelWithoutPrevResultRemovesTheNetworksUnusedSubnets) {
  auto a = args(R"(, "ipMasq": true)");
  env_.pod = []() -> CniResult<Netlink*> { return nullptr; };
  hostlocal::StoreContents store{
      .inUse = {*IpAddr::parse("10.6.0.2")},
      .subnets = {*IpNet::parse("10.5.0.0/24"), *IpNet::parse("10.6.0.0/24")}};
  env_.ipamLocked = [&](bool, const Env::InUseFn& fn) -> CniStatus { return fn(store); };
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_EQ(nft_.deleted,
            (std::vector<std::string>{"masq-nets4 10.5.0.0", "masq-nets4 10.5.1.0 end"}));
  EXPECT_EQ(ipamCalls_, (std::vector<std::string>{"DEL host-local"}));
}

// A config ADD refused (it does not parse) still gets every step of DEL: the veth, the IPAM
// release, the masquerade and MAC spoof elements (switches that don't parse count as on).
TEST_F(BridgeLogic, DelCleansUpWhatAConfigAddRefusedLeaves) {
  pod_.addLink("eth0", "veth");
  auto a = args("");
  a.stdinData = R"({"cniVersion": "1.1.0", "name": "net", "type": "bridge", "bridge": "br9",
      "ipam": {"type": "host-local"}, "mtu": "big", "ipMasq": "yes", "macspoofchk": 1,
      "runtimeConfig": {"portMappings": [{"hostPort": 0}]}, "prevResult": {"ips": "none"}})";
  ASSERT_FALSE(parseNetConf(a.stdinData));
  a.conf = *parseNetConf(a.stdinData, ParseMode::kDel);
  EXPECT_EQ(a.conf.ignored.size(), 2u);  // runtimeConfig and prevResult left out
  ASSERT_FALSE(cmdAdd(env_, a));
  hostlocal::StoreContents store{.subnets = {*IpNet::parse("10.5.0.0/24")}};
  env_.ipamLocked = [&](bool, const Env::InUseFn& fn) -> CniStatus { return fn(store); };
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_FALSE(pod_.linkByName("eth0")->has_value());
  EXPECT_EQ(ipamCalls_, (std::vector<std::string>{"DEL host-local"}));
  EXPECT_EQ(nft_.deleted.size(), 2u);  // the unused subnet left the masquerade set
}

// One failing step does not stop the others; DEL reports the first failure.
TEST_F(BridgeLogic, DelGoesOnAfterAFailedStepAndReportsIt) {
  pod_.addLink("eth0", "veth");
  auto a = args("");
  env_.ipamExec = [](const std::string&, const std::string&, const std::string&) -> CniStatus {
    return cniFail(kIoFailure, "store is read-only");
  };
  auto del = cmdDel(env_, a);
  ASSERT_FALSE(del);
  EXPECT_EQ(del.error().msg, "store is read-only");
  EXPECT_FALSE(pod_.linkByName("eth0")->has_value());
}

TEST_F(BridgeLogic, AddRefusesAnExistingInterfaceAndRollsBackOnFailure) {
  pod_.addLink("eth0", "veth");
  auto a = args("");
  env_.podNetnsFd = 3;
  auto r = cmdAdd(env_, a);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().msg, "container veth name \"eth0\" already exists");
  EXPECT_TRUE(host_.calls.empty());

  // The pod end can't be found after creation (fake): everything created is removed again.
  pod_.linkTable.clear();
  auto r2 = cmdAdd(env_, a);
  ASSERT_FALSE(r2);
  EXPECT_FALSE(host_.linkByName("veth0000abcd")->has_value());
  EXPECT_TRUE(host_.linkByName("br9")->has_value());  // the bridge is shared, it stays
  EXPECT_TRUE(ipamCalls_.empty());                    // failed before IPAM
}

TEST_F(BridgeLogic, CheckComparesAddressesMtuAndRoutes) {
  int br = host_.addLink("br9", "bridge");
  int veth = host_.addLink("veth0000abcd", "veth");
  ASSERT_TRUE(host_.setMaster(veth, br));
  int eth0 = pod_.addLink("eth0", "veth");
  ASSERT_TRUE(pod_.setUp(eth0, true));
  ASSERT_TRUE(pod_.addAddress(eth0, *IpNet::parse("10.5.0.7/24")));
  RouteSpec def{*IpNet::parse("0.0.0.0/0"), IpAddr::parse("10.5.0.1"), eth0};
  ASSERT_TRUE(pod_.addRoute(def));
  auto a = args(R"(, "mtu": 1500, "prevResult": {"cniVersion": "1.1.0",
      "interfaces": [{"name": "br9"}, {"name": "veth0000abcd"}, {"name": "eth0", "sandbox": "/x"}],
      "ips": [{"address": "10.5.0.7/24", "gateway": "10.5.0.1", "interface": 2}],
      "routes": [{"dst": "0.0.0.0/0"}]})");
  auto ok = cmdCheck(env_, a);
  ASSERT_TRUE(ok) << ok.error().msg;

  ASSERT_TRUE(pod_.setMtu(eth0, 1400));
  auto mtu = cmdCheck(env_, a);
  ASSERT_FALSE(mtu);
  EXPECT_EQ(mtu.error().msg, "eth0 has MTU 1400, the config says 1500");
  ASSERT_TRUE(pod_.setMtu(eth0, 1500));

  ASSERT_TRUE(pod_.deleteRoute(def));
  auto route = cmdCheck(env_, a);
  ASSERT_FALSE(route);
  EXPECT_EQ(route.error().msg, "eth0 lacks route 0.0.0.0/0 via 10.5.0.1");
  // A route with another gateway is not the one ADD made.
  def.gw = IpAddr::parse("10.5.0.254");
  ASSERT_TRUE(pod_.addRoute(def));
  EXPECT_FALSE(cmdCheck(env_, a));
}

TEST(BridgeGateway, GatewaysAndDefaultRoutes) {
  auto c = *parseBridgeConf(*parseNetConf(
      R"({"cniVersion": "1.0.0", "name": "n", "type": "bridge", "isDefaultGateway": true})"));
  PluginResult r;
  r.ips.push_back({*IpNet::parse("10.5.0.7/24"), std::nullopt, 2});
  r.ips.push_back({*IpNet::parse("fd05::7/64"), IpAddr::parse("fd05::fe"), 2});
  r.routes.push_back({*IpNet::parse("::/0"), std::nullopt});
  applyGateways(c, r);
  EXPECT_EQ(r.ips[0].gateway->str(), "10.5.0.1");
  EXPECT_EQ(r.ips[1].gateway->str(), "fd05::fe");  // IPAM's own stays
  ASSERT_EQ(r.routes.size(), 2u);
  EXPECT_EQ(r.routes[0].gw->str(), "fd05::fe");  // the existing default route gets the gateway
  EXPECT_EQ(r.routes[1].dst.str(), "0.0.0.0/0");
  EXPECT_EQ(r.routes[1].gw->str(), "10.5.0.1");
}

TEST(BridgeGateway, ForceAddressReplacesAnotherAddress) {
  FakeNetlink nl;
  int br = nl.addLink("br0", "bridge");
  auto link = *nl.linkByIndex(br).value();
  nl.addressTable[br] = {*IpNet::parse("10.9.0.1/24"), *IpNet::parse("fd09::1/64")};
  auto gw = *IpNet::parse("10.5.0.1/24");
  auto refused = ensureGatewayAddress(nl, link, gw, false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().msg, "\"br0\" already has an IP address different from 10.5.0.1/24");
  ASSERT_TRUE(ensureGatewayAddress(nl, link, gw, true));
  EXPECT_EQ(*nl.addresses(br, 4), (std::vector<IpNet>{gw}));
  // IPv6: a non-overlapping subnet coexists.
  ASSERT_TRUE(ensureGatewayAddress(nl, link, *IpNet::parse("fd05::1/64"), false));
  EXPECT_EQ(nl.addresses(br, 6)->size(), 2u);
  ASSERT_TRUE(ensureGatewayAddress(nl, link, gw, false));  // already there
}

}  // namespace
}  // namespace berth::cni::bridge
