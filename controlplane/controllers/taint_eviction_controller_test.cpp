#include "controlplane/controllers/taint_eviction_controller.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace taint_eviction_controller_test {

using nlohmann::json;
using std::chrono::seconds;

const json kUnreachable = {{"key", "node.kubernetes.io/unreachable"},
                           {"effect", "NoExecute"},
                           {"timeAdded", "2026-01-01T00:00:00Z"}};

json podTolerating(json tolerations) {
  return {{"spec", {{"tolerations", std::move(tolerations)}}}};
}

json tolerateUnreachable(std::optional<int> seconds) {
  json t = {
      {"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}};
  if (seconds) t["tolerationSeconds"] = *seconds;
  return t;
}

TEST(TaintEvictionTest, EvictionTimeFollowsTolerations) {
  kubeapi::Time added = *kubeapi::parseTime("2026-01-01T00:00:00Z");
  kubeapi::Time seen = added + seconds(100);
  json taints = json::array({kUnreachable});
  // Not tolerated: at once.
  auto none = evictionTime(podTolerating(json::array()), taints, seen);
  ASSERT_TRUE(none);
  EXPECT_LT(*none, added);
  // The shortest tolerationSeconds, counted from timeAdded.
  auto timed = evictionTime(
      podTolerating({tolerateUnreachable(30), tolerateUnreachable(5), tolerateUnreachable({})}),
      taints, seen);
  ASSERT_TRUE(timed);
  EXPECT_EQ(*timed, added + seconds(5));
  // Tolerated for good; and no NoExecute taint at all.
  EXPECT_FALSE(evictionTime(podTolerating(json::array({tolerateUnreachable({})})), taints, seen));
  EXPECT_FALSE(evictionTime(podTolerating(json::array()), json::array(), seen));
  // A taint without timeAdded counts from when it was first seen.
  json noTime = {{"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}};
  EXPECT_EQ(*evictionTime(podTolerating(json::array({tolerateUnreachable(1)})),
                          json::array({noTime}), seen),
            seen + seconds(1));
  // Tolerating one taint for good does not save it from another it does not tolerate.
  json notReady = {{"key", "node.kubernetes.io/not-ready"}, {"effect", "NoExecute"}};
  EXPECT_TRUE(evictionTime(podTolerating(json::array({tolerateUnreachable({})})),
                           json::array({kUnreachable, notReady}), seen));
}

}  // namespace taint_eviction_controller_test
}  // namespace berth::controlplane::controllers
