#include "cni-plugins/portmap/portmap.h"

#include <gtest/gtest.h>

#include "cni-plugins/portmap/rules.h"

namespace berth::cni::portmap {
namespace {

TEST(PortmapRules, MappingsFollowFamiliesAndHostIp) {
  std::vector<PortMapping> ports = {
      {8080, 80, "tcp", ""}, {53, 5353, "udp", "fd00::1"}, {9090, 90, "sctp", "127.0.0.1"}};
  auto ms =
      mappingsFor(ports, {*IpNet::parse("10.1.0.5/24"), *IpNet::parse("fd01::5/64")}, "c1/eth0");
  ASSERT_EQ(ms.size(), 4u);  // 8080 on both, 53 on v6 only, 9090 on v4 only
  auto add = addElements(ms, true);
  EXPECT_NE(add.find("add element inet berth-cni hostports4 { tcp . 8080 comment \"c1/eth0\" : "
                     "10.1.0.5 . 80 }"),
            std::string::npos)
      << add;
  EXPECT_NE(add.find("hostports6 { tcp . 8080 comment \"c1/eth0\" : fd01::5 . 80 }"),
            std::string::npos);
  EXPECT_NE(add.find("hostports6-ip { fd00::1 . udp . 53 comment \"c1/eth0\" : fd01::5 . 5353 }"),
            std::string::npos);
  EXPECT_NE(
      add.find("hostports4-ip { 127.0.0.1 . sctp . 9090 comment \"c1/eth0\" : 10.1.0.5 . 90 }"),
      std::string::npos);
  // One hairpin element per address, however many ports.
  EXPECT_EQ(add.find("hairpin4 { 10.1.0.0/24 . 10.1.0.5 comment"),
            add.rfind("hairpin4 { 10.1.0.0/24 . 10.1.0.5 comment"));
  EXPECT_EQ(addElements(ms, false).find("hairpin"), std::string::npos);
  auto del = delBatch(ms, true);
  EXPECT_NE(del.find("delete element inet berth-cni hostports4 { tcp . 8080 }"), std::string::npos);
  EXPECT_NE(del.find("delete element inet berth-cni hairpin4 { 10.1.0.0/24 . 10.1.0.5 }"),
            std::string::npos);
  EXPECT_TRUE(del.starts_with("add table inet berth-cni\n"));
  auto full = addBatch(ms, true);
  EXPECT_NE(full.find("type nat hook output priority -100"), std::string::npos);
  EXPECT_NE(full.find("ct status dnat ip saddr 127.0.0.0/8 masquerade"), std::string::npos);
}

// The kernel's layout as `nft --debug=netlink add element ...` prints it: concatenated fields
// padded to 4 bytes, addresses and ports in network order.
TEST(PortmapRules, NftElementsInTheKernelLayout) {
  std::vector<PortMapping> ports = {{8080, 80, "tcp", ""}, {53, 5353, "udp", "fd00::1"}};
  auto ms =
      mappingsFor(ports, {*IpNet::parse("10.1.0.5/24"), *IpNet::parse("fd01::5/64")}, "c1/eth0");
  auto els = nftElements(ms, true);
  ASSERT_EQ(els.size(), 5u);  // 8080 v4, 8080 v6, 53 v6 (hostIP), hairpin4, hairpin6
  using B = std::vector<uint8_t>;
  EXPECT_EQ(els[0].set, "hostports4");
  EXPECT_EQ(els[0].key, (B{6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  EXPECT_EQ(els[0].data, (B{10, 1, 0, 5, 0, 80, 0, 0}));
  EXPECT_EQ(els[0].comment, "c1/eth0");
  EXPECT_TRUE(els[0].keyEnd.empty());
  EXPECT_EQ(els[2].set, "hostports6-ip");
  B key6(16, 0);
  key6[0] = 0xfd;
  key6[15] = 1;
  key6.insert(key6.end(), {17, 0, 0, 0, 0, 53, 0, 0});
  EXPECT_EQ(els[2].key, key6);
  EXPECT_EQ(els[2].data.size(), 20u);
  EXPECT_EQ(els[3].set, "hairpin4");
  EXPECT_EQ(els[3].key, (B{10, 1, 0, 0, 10, 1, 0, 5}));
  EXPECT_EQ(els[3].keyEnd, (B{10, 1, 0, 255, 10, 1, 0, 5}));
  EXPECT_EQ(els[4].set, "hairpin6");
  EXPECT_EQ(nftElements(ms, false).size(), 3u);
}

TEST(PortmapRules, OwnedElementsFromNftJson) {
  auto listing = Json::parse(R"({"nftables": [{"metainfo": {}},
    {"map": {"family": "inet", "name": "hostports4", "table": "berth-cni",
      "elem": [[{"elem": {"val": {"concat": ["tcp", 8080]}, "comment": "c1/eth0"}},
                {"concat": ["10.0.0.2", 80]}],
               [{"elem": {"val": {"concat": ["udp", 53]}}}, {"concat": ["10.0.0.3", 53]}]]}},
    {"set": {"family": "inet", "name": "hairpin4", "table": "berth-cni",
      "elem": [{"elem": {"val": {"concat": [{"prefix": {"addr": "10.0.0.0", "len": 24}},
                                            "10.0.0.2"]}, "comment": "c1/eth0"}}]}},
    {"set": {"family": "inet", "name": "masq-nets4", "table": "berth-cni",
      "elem": [{"elem": {"val": "x", "comment": "c1/eth0"}}]}}]})");
  auto owned = ownedElements(listing, isPortmapSet);
  ASSERT_EQ(owned.size(), 2u);  // no comment, or not ours: left alone
  EXPECT_EQ(owned[0].set, "hostports4");
  EXPECT_EQ(owned[0].key, "tcp . 8080");
  EXPECT_EQ(owned[1].key, "10.0.0.0/24 . 10.0.0.2");
  EXPECT_EQ(deleteElements(owned),
            "delete element inet berth-cni hostports4 { tcp . 8080 }\n"
            "delete element inet berth-cni hairpin4 { 10.0.0.0/24 . 10.0.0.2 }\n");
}

class FakeNft : public Nft {
 public:
  std::vector<std::string> batches;
  Status run(std::string_view b) override {
    batches.emplace_back(b);
    return {};
  }
  int listed = 0;
  Result<std::string> listJson(std::string_view) override {
    ++listed;
    return std::string("{}");
  }
};

// The plugin's logic over a fake nft and sysctl writer, for attachment c/eth0.
class PortmapLogic : public ::testing::Test {
 protected:
  CmdArgs args(std::string_view conf, ParseMode mode = ParseMode::kStrict) {
    CmdArgs a;
    a.containerId = "c";
    a.ifName = "eth0";
    a.stdinData = std::string(conf);
    auto parsed = parseNetConf(conf, mode);
    EXPECT_TRUE(parsed) << parsed.error().msg;
    if (parsed) a.conf = std::move(*parsed);
    return a;
  }
  FakeNft nft_;
  std::vector<std::string> sysctls_;
  Env env_{[this]() -> CniResult<Nft*> { return &nft_; },
           [this](std::string_view k, std::string_view v) -> Status {
             sysctls_.push_back(fmt::format("{}={}", k, v));
             return {};
           }};
};

TEST_F(PortmapLogic, AddPassesPrevResultAndSetsRouteLocalnet) {
  auto a = args(R"({"cniVersion": "1.1.0", "name": "n", "type": "portmap",
      "runtimeConfig": {"portMappings": [{"hostPort": 1, "containerPort": 2}]},
      "prevResult": {"cniVersion": "1.1.0",
        "interfaces": [{"name": "lo"}, {"name": "eth0", "sandbox": "/x"}],
        "ips": [{"address": "10.0.0.2/24", "interface": 1}]}})");
  auto r = cmdAdd(env_, a);
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->ips[0].address.str(), "10.0.0.2/24");
  EXPECT_EQ(sysctls_, (std::vector<std::string>{"net.ipv4.conf.lo.route_localnet=1"}));
  ASSERT_EQ(nft_.batches.size(), 1u);
  EXPECT_NE(nft_.batches[0].find("tcp . 1 comment \"c/eth0\" : 10.0.0.2 . 2"), std::string::npos);
  // DEL without prevResult looks for the owner's elements (none here) and succeeds.
  a.conf.prevResult.reset();
  EXPECT_TRUE(cmdDel(env_, a));
  EXPECT_EQ(nft_.batches.size(), 1u);
}

// What containerd's CRI sends (portMappings from a Go struct without JSON tags) is mapped.
TEST_F(PortmapLogic, ContainerdsPortMappingsAreMapped) {
  auto a = args(R"({"cniVersion": "1.0.0", "name": "containerd-net",
      "type": "portmap", "capabilities": {"portMappings": true},
      "runtimeConfig": {"portMappings": [{"HostPort": 18080, "ContainerPort": 80,
                                          "Protocol": "tcp", "HostIP": "127.0.0.1"}]},
      "prevResult": {"cniVersion": "1.0.0",
        "interfaces": [{"name": "cni0"}, {"name": "eth0", "sandbox": "/x"}],
        "ips": [{"address": "10.88.0.5/16", "interface": 1}]}})");
  auto r = cmdAdd(env_, a);
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(nft_.batches.size(), 1u);
  EXPECT_NE(nft_.batches[0].find("hostports4-ip { 127.0.0.1 . tcp . 18080 "), std::string::npos)
      << nft_.batches[0];
  EXPECT_NE(nft_.batches[0].find(": 10.88.0.5 . 80 }"), std::string::npos) << nft_.batches[0];
}

// A DEL whose config ADD refused (here the runtimeConfig and an unsupported key) finds the
// attachment's elements by their comment instead of failing on the same error again.
TEST_F(PortmapLogic, DelOfAConfigThatDoesNotParseFindsElementsByOwner) {
  constexpr std::string_view conf = R"({"cniVersion": "1.1.0", "name": "n", "type": "portmap",
      "conditionsV4": ["-s", "1.2.3.4"],
      "runtimeConfig": {"portMappings": [{"hostPort": 0, "containerPort": 80}]},
      "prevResult": {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.2/24"}]}})";
  ASSERT_FALSE(parseNetConf(conf));
  auto a = args(conf, ParseMode::kDel);
  EXPECT_EQ(nft_.listed, 0);
  ASSERT_TRUE(cmdDel(env_, a));
  EXPECT_EQ(nft_.listed, 1);  // looked for the owner's elements
}

}  // namespace
}  // namespace berth::cni::portmap
