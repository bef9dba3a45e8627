#include "shim/stats/net_stats.h"

#include <gtest/gtest.h>

namespace berth::cri::stats {
namespace {

constexpr const char* kProcNetDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo:     840      10    0    0    0     0          0         0      840      10    0 "
    "   0    0     0       0          0\n"
    "  eth0: 18446744073709551615 120 3 4 0 0 0 1 5000 60 7 8 0 0 0 0\n"
    "net1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";

TEST(ParseProcNetDev, ReadsEveryInterface) {
  auto r = parseProcNetDev(kProcNetDev);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].name, "lo");
  EXPECT_EQ((*r)[0].rxBytes, 840u);
  const auto& eth0 = (*r)[1];
  EXPECT_EQ(eth0.name, "eth0");
  EXPECT_EQ(eth0.rxBytes, 18446744073709551615u);  // 64-bit counters
  EXPECT_EQ(eth0.rxPackets, 120u);
  EXPECT_EQ(eth0.rxErrors, 3u);
  EXPECT_EQ(eth0.rxDropped, 4u);
  EXPECT_EQ(eth0.txBytes, 5000u);
  EXPECT_EQ(eth0.txPackets, 60u);
  EXPECT_EQ(eth0.txErrors, 7u);
  EXPECT_EQ(eth0.txDropped, 8u);
  // No space after the colon: long counters run into the name.
  EXPECT_EQ((*r)[2].name, "net1");
  EXPECT_EQ((*r)[2].rxBytes, 1u);
  EXPECT_EQ((*r)[2].txErrors, 11u);
}

TEST(ParseProcNetDev, BadLinesNameTheLine) {
  std::string text = "h1\nh2\n  eth0: 1 2 3\n";
  auto r = parseProcNetDev(text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("line 3: field 4"), std::string::npos) << r.error().message();
  r = parseProcNetDev("h1\nh2\nno colon here\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("line 3"), std::string::npos) << r.error().message();
}

TEST(ReadNetworkStats, MissingNamespaceNamesThePath) {
  auto r = readNetworkStats("/nonexistent/berth-netns", 1);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/nonexistent/berth-netns"), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace berth::cri::stats
