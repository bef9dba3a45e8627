// WriteTracker against an ObjectCache that lags behind the writes.
#include "controlplane/controllers/write_tracker.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace write_tracker_test {

kubeapi::ObjectPtr slice(const std::string& name, const std::string& rv) {
  return std::make_shared<const nlohmann::json>(
      nlohmann::json{{"metadata", {{"namespace", "ns"}, {"name", name}, {"resourceVersion", rv}}}});
}

TEST(WriteTrackerTest, WaitsUntilTheCacheShowsEveryWrite) {
  kubeapi::ObjectCache cache;
  WriteTracker tracker;
  EXPECT_TRUE(tracker.caughtUp("ns/web", cache));

  tracker.remember("ns/web", *slice("a", "12"), false);
  tracker.remember("ns/web", *slice("b", "13"), false);
  EXPECT_FALSE(tracker.caughtUp("ns/web", cache));  // neither there yet
  cache.upsert(slice("a", "12"));
  cache.upsert(slice("b", "9"));
  EXPECT_FALSE(tracker.caughtUp("ns/web", cache));  // b is older than what was written
  EXPECT_TRUE(tracker.caughtUp("ns/other", cache));
  cache.upsert(slice("b", "14"));
  EXPECT_TRUE(tracker.caughtUp("ns/web", cache));

  tracker.remember("ns/web", *slice("a", "12"), true);
  EXPECT_FALSE(tracker.caughtUp("ns/web", cache));  // the deleted one is still cached
  cache.remove("ns/a");
  EXPECT_TRUE(tracker.caughtUp("ns/web", cache));

  tracker.remember("ns/web", *slice("c", "20"), false);
  tracker.forget("ns/web");
  EXPECT_TRUE(tracker.caughtUp("ns/web", cache));
}

}  // namespace write_tracker_test
}  // namespace berth::controlplane::controllers
