#include "cni-plugins/loopback/loopback.h"

#include <gtest/gtest.h>

#include "common/netlink_fake.h"

namespace berth::cni::loopback {
namespace {

CmdArgs args(std::string_view conf) {
  CmdArgs a;
  a.netns = "/run/netns/x";
  a.conf = *parseNetConf(conf);
  return a;
}

TEST(Loopback, AddBringsLoUpAndReportsItsAddresses) {
  FakeNetlink nl;
  int lo = nl.addLink("lo");
  nl.addressTable[lo] = {*IpNet::parse("127.0.0.1/8"), *IpNet::parse("::1/128")};
  auto r = add(nl, args(R"({"cniVersion": "1.1.0", "name": "lo", "type": "loopback"})"));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_TRUE(nl.linkTable[lo].up());
  ASSERT_EQ(r->interfaces.size(), 1u);
  EXPECT_EQ(r->interfaces[0].name, "lo");
  EXPECT_EQ(r->interfaces[0].sandbox, "/run/netns/x");
  ASSERT_EQ(r->ips.size(), 2u);
  EXPECT_EQ(r->ips[0].address.str(), "127.0.0.1/8");
  EXPECT_EQ(r->ips[1].interface, 0);
  EXPECT_TRUE(check(nl));
  EXPECT_TRUE(del(nl));
  EXPECT_FALSE(nl.linkTable[lo].up());
  auto down = check(nl);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().msg, "loopback interface is down");
}

TEST(Loopback, PassesPrevResultOnAndReportsFailures) {
  FakeNetlink nl;
  nl.addLink("lo");
  auto r = add(nl, args(R"({"cniVersion": "1.0.0", "name": "n", "type": "loopback",
      "prevResult": {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}]}})"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ips[0].address.str(), "10.0.0.2/24");
  nl.failOn = "setUp";
  auto f = add(nl, args(R"({"cniVersion": "1.0.0", "name": "n", "type": "loopback"})"));
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().msg.find("setUp"), std::string::npos);
  FakeNetlink empty;
  EXPECT_FALSE(add(empty, args(R"({"cniVersion": "1.0.0", "name": "n", "type": "loopback"})")));
}

}  // namespace
}  // namespace berth::cni::loopback
