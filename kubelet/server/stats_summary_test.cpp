#include "kubelet/server/stats_summary.h"

#include <gtest/gtest.h>

namespace berth::kubelet::server {
namespace {

TEST(NodeUsage, ProcStatCpuCountsBusyJiffies) {
  // user nice system idle iowait irq softirq steal
  auto ns = parseProcStatCpu("cpu  100 1 50 9000 7 2 3 4 0 0\ncpu0 1 2 3\n", 100);
  ASSERT_TRUE(ns);
  EXPECT_EQ(*ns, (100u + 1 + 50 + 2 + 3 + 4) * 10'000'000u);
  EXPECT_FALSE(parseProcStatCpu("intr 1 2\n", 100));
}

TEST(NodeUsage, MeminfoGivesCadvisorsRootView) {
  auto m = parseMeminfo(
      "MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    500 kB\n"
      "AnonPages:       300 kB\nInactive(file):  100 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->usageBytes, 800u * 1024);
  EXPECT_EQ(m->workingSetBytes, 700u * 1024);
  EXPECT_EQ(m->availableBytes, 500u * 1024);
  EXPECT_EQ(m->rssBytes, 300u * 1024);
  auto bad = parseMeminfo("MemTotal: 1 kB\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("MemFree"), std::string::npos);
}

}  // namespace
}  // namespace berth::kubelet::server
