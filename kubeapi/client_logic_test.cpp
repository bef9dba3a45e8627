// The client's pure logic with a fake clock: token bucket, backoff, watch stream decoding.
#include <gtest/gtest.h>

#include "kubeapi/backoff.h"
#include "kubeapi/token_bucket.h"
#include "kubeapi/watch_decoder.h"

namespace berth::kubeapi {
namespace {

using namespace std::chrono;

TEST(TokenBucket, StartsFullThenRefillsAtQps) {
  FakeClock clock;
  TokenBucket bucket(2, 3, clock);  // 2/s, burst 3
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(bucket.reserve(), 0ns) << i;
  // The bucket is empty: the 4th token exists in 0.5 s, the 5th in 1 s.
  EXPECT_EQ(bucket.reserve(), 500ms);
  EXPECT_EQ(bucket.reserve(), 1000ms);
  clock.advance(1s);
  EXPECT_EQ(bucket.reserve(), 500ms);
  EXPECT_FALSE(bucket.tryAccept());
  clock.advance(10s);  // refills to the burst, never beyond
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_TRUE(bucket.tryAccept());
  EXPECT_FALSE(bucket.tryAccept());
}

TEST(TokenBucket, WaitSleepsOnTheClock) {
  FakeClock clock;
  TokenBucket bucket(5, 1, clock);
  bucket.wait();
  bucket.wait();
  bucket.wait();
  EXPECT_EQ(clock.slept(), 400ms);  // 2 tokens at 5/s
  TokenBucket unlimited(0, 0, clock);
  EXPECT_EQ(unlimited.reserve(), 0ns);
}

TEST(Backoff, GrowsToTheCapAndResets) {
  FakeClock clock;
  Backoff b({.initial = 100ms, .factor = 2, .jitter = 0, .cap = 500ms, .resetAfter = 10s}, clock);
  std::vector<nanoseconds> steps;
  for (int i = 0; i < 5; ++i)
    steps.push_back(b.next());
  EXPECT_EQ(steps, (std::vector<nanoseconds>{100ms, 200ms, 400ms, 500ms, 500ms}));
  clock.advance(11s);  // quiet long enough: back to the start
  EXPECT_EQ(b.next(), 100ms);
  b.reset();
  EXPECT_EQ(b.next(), 100ms);
}

TEST(Backoff, JitterStaysInItsBand) {
  FakeClock clock;
  Backoff b({.initial = 100ms, .factor = 1, .jitter = 0.5, .cap = 1s}, clock);
  for (int i = 0; i < 100; ++i) {
    auto d = b.next();
    EXPECT_GE(d, 100ms);
    EXPECT_LE(d, 150ms);
  }
}

std::string ev(const char* type, const char* name) {
  return nlohmann::json{{"type", type}, {"object", {{"metadata", {{"name", name}}}}}}.dump();
}

TEST(WatchDecoder, SplitsEventsAcrossAnyChunking) {
  std::string stream = ev("ADDED", "a{") + "\n" + ev("MODIFIED", "b\\\"}") + "\n\n" +
                       ev("DELETED", "c") + ev("BOOKMARK", "") + "\r\n";
  // Every way of cutting the stream in two gives the same four events.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    WatchDecoder d;
    auto first = d.feed(std::string_view(stream).substr(0, cut));
    ASSERT_TRUE(first) << cut;
    auto second = d.feed(std::string_view(stream).substr(cut));
    ASSERT_TRUE(second) << cut;
    std::vector<WatchEvent> all = *first;
    all.insert(all.end(), second->begin(), second->end());
    ASSERT_EQ(all.size(), 4u) << cut;
    EXPECT_EQ(all[0].type, WatchEvent::Type::kAdded);
    EXPECT_EQ(all[0].object["metadata"]["name"], "a{");
    EXPECT_EQ(all[1].type, WatchEvent::Type::kModified);
    EXPECT_EQ(all[1].object["metadata"]["name"], "b\\\"}");
    EXPECT_EQ(all[2].type, WatchEvent::Type::kDeleted);
    EXPECT_EQ(all[3].type, WatchEvent::Type::kBookmark);
    EXPECT_EQ(d.pending(), 0u);
  }
}

TEST(WatchDecoder, RejectsWhatIsNotAWatchEvent) {
  struct Case {
    const char* in;
    const char* error;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"nope", "watch stream: unexpected \"n\" between events"},
           {R"({"type":"ADDED"})", "watch event ADDED has no object"},
           {R"({"type":"CREATED","object":{}})", "watch event has an unknown type CREATED"},
           {R"({"object":{}})", "watch event has no type"},
           {"\xff", "watch stream: unexpected \"\\xff\" between events"},
           {R"({"type":"ADDED","object":{]})", "watch event is not a JSON object"},
       }) {
    WatchDecoder d;
    auto r = d.feed(c.in);
    ASSERT_FALSE(r) << c.in;
    EXPECT_EQ(r.error().message(), c.error) << c.in;
  }
  WatchDecoder partial;
  auto r = partial.feed(R"({"type":"ADDED","obj)");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(partial.pending(), 20u);
}

}  // namespace
}  // namespace berth::kubeapi
