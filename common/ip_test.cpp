#include "common/ip.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(IpAddr, ParsesAndFormats) {
  struct Case {
    const char* in;
    int family;
    const char* out;
  };
  for (const auto& c : std::initializer_list<Case>{{"10.1.2.3", 4, "10.1.2.3"},
                                                   {"fd00::1", 6, "fd00::1"},
                                                   {"::ffff:10.0.0.1", 4, "10.0.0.1"},
                                                   {"FD00:0::0:2", 6, "fd00::2"},
                                                   {"10.1.2", 0, ""},
                                                   {"", 0, ""},
                                                   {"10.1.2.3/8", 0, ""}}) {
    auto ip = IpAddr::parse(c.in);
    if (c.family == 0) {
      EXPECT_FALSE(ip) << c.in;
      continue;
    }
    ASSERT_TRUE(ip) << c.in;
    EXPECT_EQ(ip->family(), c.family) << c.in;
    EXPECT_EQ(ip->str(), c.out);
  }
}

TEST(IpAddr, Arithmetic) {
  EXPECT_EQ(IpAddr::parse("10.0.0.255")->next().str(), "10.0.1.0");
  EXPECT_EQ(IpAddr::parse("10.0.1.0")->prev().str(), "10.0.0.255");
  EXPECT_EQ(IpAddr::parse("fd00::ffff")->next().str(), "fd00::1:0");
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->masked(16).str(), "10.1.0.0");
  EXPECT_EQ(IpAddr::parse("10.1.2.3")->masked(20, true).str(), "10.1.15.255");
  EXPECT_LT(*IpAddr::parse("10.0.0.9"), *IpAddr::parse("10.0.0.10"));
}

TEST(IpNet, ParsesContainsOverlaps) {
  auto n = IpNet::parse("10.1.2.3/16");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->str(), "10.1.2.3/16");
  EXPECT_EQ(n->canonical().str(), "10.1.0.0/16");
  EXPECT_EQ(n->broadcast().str(), "10.1.255.255");
  EXPECT_TRUE(n->contains(*IpAddr::parse("10.1.200.1")));
  EXPECT_FALSE(n->contains(*IpAddr::parse("10.2.0.1")));
  EXPECT_FALSE(n->contains(*IpAddr::parse("fd00::1")));
  EXPECT_TRUE(n->overlaps(*IpNet::parse("10.0.0.0/8")));
  EXPECT_FALSE(n->overlaps(*IpNet::parse("10.2.0.0/16")));
  EXPECT_TRUE(IpNet::parse("fd00::/64"));
  for (const char* bad :
       {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "fd00::/129", "x/8", "10.0.0.0/-1"}) {
    EXPECT_FALSE(IpNet::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace berth
