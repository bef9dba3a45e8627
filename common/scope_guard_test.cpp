#include "common/scope_guard.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(ScopeGuard, RunsAtScopeExit) {
  int runs = 0;
  {
    auto g = defer([&] { ++runs; });
  }
  EXPECT_EQ(runs, 1);
}

TEST(ScopeGuard, CancelKeepsWhatWasDone) {
  int runs = 0;
  {
    auto g = defer([&] { ++runs; });
    g.cancel();
  }
  EXPECT_EQ(runs, 0);
}

TEST(ScopeGuard, MovedFromGuardDoesNotRunTwice) {
  int runs = 0;
  {
    auto a = defer([&] { ++runs; });
    auto b = std::move(a);
  }
  EXPECT_EQ(runs, 1);
}

}  // namespace
}  // namespace berth
