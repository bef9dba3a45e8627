#include "controlplane/controllers/cidr_set.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace cidr_set_test {

IpNet net(const char* text) {
  return *IpNet::parse(text);
}

TEST(CidrSetTest, AllocatesEverySubnetOnceThenIsExhausted) {
  auto set = CidrSet::create(net("10.42.0.0/22"), 24);
  ASSERT_TRUE(set) << set.error().message();
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) {
    auto cidr = set->allocateNext();
    ASSERT_TRUE(cidr) << cidr.error().message();
    got.push_back(cidr->str());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.42.0.0/24", "10.42.1.0/24", "10.42.2.0/24",
                                           "10.42.3.0/24"}));
  auto none = set->allocateNext();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Code::kResourceExhausted);
  ASSERT_TRUE(set->release(net("10.42.2.0/24")));
  EXPECT_EQ(set->allocateNext()->str(), "10.42.2.0/24");
}

TEST(CidrSetTest, OccupiedSubnetsAreSkippedIpv6) {
  auto set = CidrSet::create(net("fd00:42::/56"), 64);
  ASSERT_TRUE(set);
  ASSERT_TRUE(set->occupy(net("fd00:42::/64")));
  ASSERT_TRUE(set->occupy(net("fd00:42:0:1::/64")));
  EXPECT_EQ(set->allocateNext()->str(), "fd00:42:0:2::/64");
  EXPECT_EQ(set->allocateNext()->str(), "fd00:42:0:3::/64");
  EXPECT_EQ(set->allocatedCount(), 4u);
  // A larger CIDR occupies every subnet it covers.
  auto v4 = CidrSet::create(net("10.0.0.0/16"), 24);
  ASSERT_TRUE(v4->occupy(net("10.0.0.0/23")));
  EXPECT_EQ(v4->allocateNext()->str(), "10.0.2.0/24");
}

TEST(CidrSetTest, RejectsOutOfRangeAndBadMasks) {
  auto set = CidrSet::create(net("10.42.0.0/16"), 24);
  auto outside = set->occupy(net("10.43.0.0/24"));
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message().find("10.43.0.0/24"), std::string::npos);
  EXPECT_FALSE(set->occupy(net("fd00::/64")));
  EXPECT_FALSE(CidrSet::create(net("10.42.0.0/16"), 8));
  auto tooBig = CidrSet::create(net("fd00::/48"), 112);
  ASSERT_FALSE(tooBig);
  EXPECT_NE(tooBig.error().message().find("too big"), std::string::npos);
}

}  // namespace cidr_set_test
}  // namespace berth::controlplane::controllers
