#include "common/event_loop.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace berth {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
  UniqueFd r, w;
};

TEST(EventLoop, RunsTheHandlerOfAReadyFdOnly) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  Pipe a, b;
  int aRuns = 0, bRuns = 0;
  ASSERT_TRUE(loop->add(a.r.get(), EPOLLIN, [&](std::uint32_t) { ++aRuns; }));
  ASSERT_TRUE(loop->add(b.r.get(), EPOLLIN, [&](std::uint32_t) { ++bRuns; }));
  EXPECT_EQ(loop->runOnce(0).value_or(-1), 0);  // nothing ready: a timeout
  ASSERT_EQ(::write(a.w.get(), "x", 1), 1);
  EXPECT_EQ(loop->runOnce(1000).value_or(-1), 1);
  EXPECT_EQ(aRuns, 1);
  EXPECT_EQ(bRuns, 0);
  EXPECT_FALSE(loop->add(a.r.get(), EPOLLIN, [](std::uint32_t) {}));  // already there
}

TEST(EventLoop, AHandlerMayRemoveItselfAndOthersMidBatch) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop);
  Pipe a, b;
  int runs = 0;
  for (Pipe* p : {&a, &b}) {
    ASSERT_TRUE(loop->add(p->r.get(), EPOLLIN, [&](std::uint32_t) {
      ++runs;
      loop->remove(a.r.get());
      loop->remove(b.r.get());
    }));
    ASSERT_EQ(::write(p->w.get(), "x", 1), 1);
  }
  EXPECT_EQ(loop->runOnce(1000).value_or(-1), 1);
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(loop->contains(a.r.get()));
  EXPECT_EQ(loop->runOnce(0).value_or(-1), 0);
}

}  // namespace
}  // namespace berth
