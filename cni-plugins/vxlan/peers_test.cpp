#include "cni-plugins/vxlan/peers.h"

#include <gtest/gtest.h>

#include "common/netlink_fake.h"

namespace berth::cni::vxlan {
namespace {

Peer peer(const char* ip, const char* subnet) {
  return {"", *IpAddr::parse(ip), IpNet::parse(subnet)->canonical()};
}

TEST(VxlanPeers, ParseAndErrors) {
  auto p = parsePeers(R"([{"name": "a", "nodeIP": "192.168.0.2", "podSubnet": "10.244.2.5/24"}])",
                      "peers.json");
  ASSERT_TRUE(p) << p.error().msg;
  EXPECT_EQ((*p)[0].podSubnet.str(), "10.244.2.0/24");
  EXPECT_EQ(formatMac(vtepMac((*p)[0].podSubnet)), "0e:58:0a:f4:02:00");
  struct Case {
    const char* json;
    const char* msg;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"{", "peers.json: invalid JSON"},
           {"{}", "peers.json: must be an array"},
           {R"([{"podSubnet": "10.0.0.0/24"}])", "peers.json: [0].nodeIP: required"},
           {R"([{"nodeIP": "1.2.3.4", "podSubnet": "fd00::/64"}])", "[0].podSubnet: invalid IPv4"},
       }) {
    auto r = parsePeers(c.json, "peers.json");
    ASSERT_FALSE(r) << c.json;
    EXPECT_NE(r.error().msg.find(c.msg), std::string::npos) << r.error().msg;
  }
}

TEST(VxlanPeers, PlanAddsWantedRemovesGoneSkipsSelf) {
  auto own = *IpNet::parse("10.244.1.0/24");
  auto plan = planPeers({peer("192.168.0.1", "10.244.1.0/24"), peer("192.168.0.2", "10.244.2.0/24"),
                         peer("192.168.0.3", "10.244.3.0/24")},
                        own, {*IpNet::parse("10.244.3.0/24"), *IpNet::parse("10.244.9.0/24")});
  ASSERT_EQ(plan.add.size(), 2u);
  EXPECT_EQ(plan.add[0].podSubnet.str(), "10.244.2.0/24");
  ASSERT_EQ(plan.remove.size(), 1u);
  EXPECT_EQ(plan.remove[0].str(), "10.244.9.0/24");

  FakeNetlink nl;
  int vx = nl.addLink("vx", "vxlan");
  ASSERT_TRUE(applyPeerPlan(nl, vx, plan));
  EXPECT_EQ(nl.routeTable.size(), 2u);
  EXPECT_TRUE(nl.routeTable[0].onlink);
  EXPECT_EQ(nl.routeTable[0].gw->str(), "10.244.2.0");
  EXPECT_EQ(nl.neighTable.size(), 4u);  // an FDB entry and a neighbour per peer
  // Syncing to nobody removes everything of theirs.
  ASSERT_TRUE(syncPeers(nl, vx, own, {}));
  EXPECT_TRUE(nl.routeTable.empty());
  EXPECT_TRUE(nl.neighTable.empty());
}

}  // namespace
}  // namespace berth::cni::vxlan
