#include "kubelet/restart_backoff.h"

#include <gtest/gtest.h>

namespace berth::kubelet {
namespace restart_backoff_test {

using namespace std::chrono_literals;

TEST(RestartBackoff, FirstRestartIsImmediateThenDoublesToTheCap) {
  auto now = std::chrono::system_clock::time_point(1000h);
  RestartBackoff b(10s, 300s, [&] { return now; });
  // First exit: no backoff yet; the restart records 10 s.
  EXPECT_FALSE(b.inBackoffSince("k", now));
  b.next("k", now);
  EXPECT_EQ(b.current("k"), 10s);
  // The container exits again at once: it waits 10 s from its exit.
  auto exited = now;
  now += 5s;
  EXPECT_TRUE(b.inBackoffSince("k", exited));
  now += 6s;
  EXPECT_FALSE(b.inBackoffSince("k", exited));
  for (auto want : {20s, 40s, 80s, 160s, 300s, 300s}) {
    b.next("k", now);
    EXPECT_EQ(b.current("k"), want);
  }
}

TEST(RestartBackoff, AContainerStableForTwiceTheCapStartsOver) {
  auto now = std::chrono::system_clock::time_point(1000h);
  RestartBackoff b(10s, 300s, [&] { return now; });
  b.next("k", now);
  b.next("k", now);
  EXPECT_EQ(b.current("k"), 20s);
  now += 601s;  // it ran this long before exiting
  EXPECT_FALSE(b.inBackoffSince("k", now));
  b.next("k", now);
  EXPECT_EQ(b.current("k"), 10s);
}

TEST(RestartBackoff, KeysAreIndependentAndGcForgetsOldOnes) {
  auto now = std::chrono::system_clock::time_point(1000h);
  RestartBackoff b(10s, 300s, [&] { return now; });
  b.next("a", now);
  b.next("a", now);
  b.next("b", now);
  EXPECT_EQ(b.current("a"), 20s);
  EXPECT_EQ(b.current("b"), 10s);
  EXPECT_TRUE(b.inBackoffSinceUpdate("b"));
  now += 11s;
  EXPECT_FALSE(b.inBackoffSinceUpdate("b"));
  now += 600s;
  b.gc();
  EXPECT_EQ(b.current("a"), 0s);
}

}  // namespace restart_backoff_test
}  // namespace berth::kubelet
