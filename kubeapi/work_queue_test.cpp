#include "kubeapi/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

std::unique_ptr<RateLimiter> noLimit() {
  return std::make_unique<ItemExponentialRateLimiter>(0ns, 0ns);
}

TEST(WorkQueue, DedupsAndNeverHandsOutAnItemTwiceAtOnce) {
  WorkQueue q(noLimit());
  q.add("ns/a");
  q.add("ns/a");
  q.add("ns/b");
  EXPECT_EQ(q.len(), 2u);
  auto a = q.get();
  ASSERT_EQ(a, "ns/a");
  q.add("ns/a");  // changed while being processed: not handed to a second worker
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.get(), "ns/b");
  EXPECT_EQ(q.get(5ms), std::nullopt);
  q.done("ns/a");  // ... but queued again once the first is done
  EXPECT_EQ(q.get(), "ns/a");
  q.done("ns/a");
  q.done("ns/b");
  EXPECT_EQ(q.len(), 0u);
}

TEST(WorkQueue, ShutDownDrainsThenEnds) {
  WorkQueue q(noLimit());
  q.add("x");
  q.shutDown();
  q.add("y");  // ignored
  EXPECT_TRUE(q.shuttingDown());
  EXPECT_EQ(q.get(), "x");
  EXPECT_EQ(q.get(), std::nullopt);

  WorkQueue blocked(noLimit());
  std::optional<std::string> got = "unset";
  std::thread waiter([&] { got = blocked.get(); });
  blocked.shutDown();  // wakes a worker blocked in get()
  waiter.join();
  EXPECT_EQ(got, std::nullopt);
}

TEST(WorkQueue, DelaysOnTheClockAndTheEarliestDelayWins) {
  FakeClock clock;
  WorkQueue q(noLimit(), clock);
  q.addAfter("later", 10s);
  q.addAfter("soon", 5s);
  q.addAfter("soon", 1s);
  q.addAfter("now", 0s);
  EXPECT_EQ(q.get(1ms), "now");
  EXPECT_EQ(q.get(1ms), std::nullopt);
  clock.advance(1s);
  EXPECT_EQ(q.get(1ms), "soon");
  clock.advance(8s);
  EXPECT_EQ(q.get(1ms), std::nullopt);
  clock.advance(1s);
  EXPECT_EQ(q.get(1ms), "later");
}

TEST(WorkQueue, RateLimitedRequeuesBackOffPerItem) {
  FakeClock clock;
  auto limiter = std::make_unique<ItemExponentialRateLimiter>(5ms, 1000s);
  WorkQueue q(std::move(limiter), clock);
  q.addRateLimited("a");  // 5 ms
  EXPECT_EQ(q.numRequeues("a"), 1);
  EXPECT_EQ(q.get(1ms), std::nullopt);
  clock.advance(5ms);
  ASSERT_EQ(q.get(1ms), "a");
  q.done("a");
  q.addRateLimited("a");  // 10 ms now
  clock.advance(9ms);
  EXPECT_EQ(q.get(1ms), std::nullopt);
  clock.advance(1ms);
  ASSERT_EQ(q.get(1ms), "a");
  q.done("a");
  q.forget("a");
  EXPECT_EQ(q.numRequeues("a"), 0);
}

TEST(RateLimiter, ExponentialPerItemWithACap) {
  ItemExponentialRateLimiter l(5ms, 1s);
  std::vector<nanoseconds> steps;
  for (int i = 0; i < 10; ++i)
    steps.push_back(l.when("a"));
  EXPECT_EQ(steps.front(), 5ms);
  EXPECT_EQ(steps[1], 10ms);
  EXPECT_EQ(steps[7], 640ms);
  EXPECT_EQ(steps[8], 1s);
  EXPECT_EQ(steps[9], 1s);
  EXPECT_EQ(l.when("b"), 5ms);  // per item
  EXPECT_EQ(l.numRequeues("a"), 10);
  l.forget("a");
  EXPECT_EQ(l.when("a"), 5ms);
}

TEST(RateLimiter, DefaultControllerLimiterIsTheSlowerOfBoth) {
  FakeClock clock;
  auto l = defaultControllerRateLimiter(clock);
  // 100 distinct items ride the bucket's burst: each waits only its own 5 ms.
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(l->when("item" + std::to_string(i)), 5ms) << i;
  // Then the 10/s bucket dominates.
  EXPECT_EQ(l->when("next"), 100ms);
  EXPECT_EQ(l->when("next2"), 200ms);
  EXPECT_EQ(l->numRequeues("next"), 1);
}

TEST(WorkQueue, WorkersShareTheQueueWithoutOverlap) {
  WorkQueue q(noLimit());
  std::atomic<int> handled{0};
  std::atomic<bool> overlap{false};
  std::mutex mu;
  std::set<std::string> inFlight;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto item = q.get()) {
        {
          std::lock_guard lock(mu);
          if (!inFlight.insert(*item).second) overlap = true;
        }
        q.add(*item == "k0" ? "k1" : "k0");  // churn: items re-added while in flight
        {
          std::lock_guard lock(mu);
          inFlight.erase(*item);
        }
        q.done(*item);
        if (++handled >= 2000) q.shutDown();
      }
    });
  }
  q.add("k0");
  for (auto& t : workers)
    t.join();
  EXPECT_FALSE(overlap);
  EXPECT_GE(handled, 2000);
}

}  // namespace
}  // namespace berth::kubeapi
