#include "shim/stats/cpu_rate.h"

#include <gtest/gtest.h>

#include "shim/stats/test_util.h"

namespace berth::cri::stats {
namespace {

using testing::kSecond;

TEST(CpuRateCache, FirstSampleIsZeroThenTheRate) {
  CpuRateCache cache;
  EXPECT_EQ(cache.update("c1", 5 * kSecond, 100 * kSecond), 0u);
  // 1.5 s of CPU in 2 s of wall time: 0.75 cores.
  EXPECT_EQ(cache.update("c1", 6'500'000'000, 102 * kSecond), 750'000'000u);
  // Each sample is measured against the one before.
  EXPECT_EQ(cache.update("c1", 8'500'000'000, 103 * kSecond), 2'000'000'000u);
}

TEST(CpuRateCache, IdsAreIndependent) {
  CpuRateCache cache;
  EXPECT_EQ(cache.update("a", 0, 0), 0u);
  EXPECT_EQ(cache.update("b", 100, 0), 0u);
  EXPECT_EQ(cache.update("a", kSecond / 2, kSecond), 500'000'000u);
  EXPECT_EQ(cache.update("b", 100, kSecond), 0u);
}

TEST(CpuRateCache, NonPositiveIntervalOrBackwardsUsageIsZeroAndKeepsTheOldSample) {
  CpuRateCache cache;
  cache.update("c", kSecond, 10 * kSecond);
  EXPECT_EQ(cache.update("c", 2 * kSecond, 10 * kSecond), 0u);  // same timestamp
  EXPECT_EQ(cache.update("c", 2 * kSecond, 9 * kSecond), 0u);   // clock went back
  EXPECT_EQ(cache.update("c", 0, 11 * kSecond), 0u);            // usage went back
  // Still against (10 s, 1 s): 1 s of CPU over 2 s.
  EXPECT_EQ(cache.update("c", 2 * kSecond, 12 * kSecond), 500'000'000u);
}

TEST(CpuRateCache, ForgetAndRetain) {
  CpuRateCache cache;
  cache.update("a", 1, 1);
  cache.update("b", 1, 1);
  cache.update("c", 1, 1);
  cache.forget("a");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.update("a", 2, 2), 0u);  // a first sample again
  cache.retain({"a"});
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.update("b", 2, 2), 0u);
}

}  // namespace
}  // namespace berth::cri::stats
