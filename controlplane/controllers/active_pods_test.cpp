// The order a ReplicaSet deletes its pods in, against upstream's ActivePodsWithRanks rules.
#include "controlplane/controllers/active_pods.h"

#include <gtest/gtest.h>

#include "kubeapi/object_meta.h"

namespace berth::controlplane::controllers {
namespace active_pods_test {

using nlohmann::json;

const kubeapi::Time kNow = kubeapi::Time(std::chrono::hours(24 * 365 * 50));

kubeapi::ObjectPtr pod(std::string name, std::string node, std::string phase, bool ready,
                       std::chrono::seconds readyFor = std::chrono::seconds(0), int restarts = 0) {
  json p = {{"metadata",
             {{"name", name},
              {"uid", name},
              {"creationTimestamp", kubeapi::formatTime(kNow - std::chrono::hours(1))}}},
            {"spec", {{"nodeName", node}}},
            {"status",
             {{"phase", phase},
              {"containerStatuses", {{{"name", "c"}, {"restartCount", restarts}}}},
              {"conditions",
               {{{"type", "Ready"},
                 {"status", ready ? "True" : "False"},
                 {"lastTransitionTime", kubeapi::formatTime(kNow - readyFor)}}}}}}};
  return std::make_shared<const json>(std::move(p));
}

std::vector<std::string> order(std::vector<kubeapi::ObjectPtr> pods) {
  std::vector<RankedPod> ranked;
  for (auto& p : pods)
    ranked.push_back({p, 0});
  sortPodsForDeletion(ranked, kNow);
  std::vector<std::string> names;
  for (auto& r : ranked)
    names.emplace_back(kubeapi::nameOf(*r.pod));
  return names;
}

TEST(ActivePodsTest, DeletionOrderFollowsUpstreamRules) {
  auto running = pod("running", "n1", "Running", true, std::chrono::hours(1));
  auto unscheduled = pod("unscheduled", "", "Pending", false);
  auto pending = pod("pending", "n1", "Pending", false);
  auto notReady = pod("notready", "n1", "Running", false);
  auto young = pod("young", "n1", "Running", true, std::chrono::seconds(10));
  auto restarted = pod("restarted", "n1", "Running", true, std::chrono::hours(1), 5);
  EXPECT_EQ(order({running, restarted, young, notReady, pending, unscheduled}),
            (std::vector<std::string>{"unscheduled", "pending", "notready", "young", "restarted",
                                      "running"}));
}

TEST(ActivePodsTest, DeletionCostAndDoubledUpPodsGoFirst) {
  json cheap = *pod("cheap", "n1", "Running", true, std::chrono::hours(1));
  kubeapi::setAnnotation(cheap, "controller.kubernetes.io/pod-deletion-cost", "-5");
  auto a = pod("a", "n1", "Running", true, std::chrono::hours(1));
  auto b = pod("b", "n2", "Running", true, std::chrono::hours(1));
  auto cheapPtr = std::make_shared<const json>(cheap);
  auto chosen = podsToDelete({a, b, cheapPtr}, {a, b, cheapPtr}, 2, kNow);
  ASSERT_EQ(chosen.size(), 2u);
  EXPECT_EQ(kubeapi::nameOf(*chosen[0]), "cheap");
  EXPECT_EQ(kubeapi::nameOf(*chosen[1]), "a");  // n1 holds two related pods, n2 one
}

TEST(ActivePodsTest, AvailableOnlyAfterMinReadySeconds) {
  auto p = pod("p", "n1", "Running", true, std::chrono::seconds(5));
  EXPECT_TRUE(isPodAvailable(*p, 0, kNow));
  EXPECT_TRUE(isPodAvailable(*p, 4, kNow));
  EXPECT_FALSE(isPodAvailable(*p, 10, kNow));
  EXPECT_FALSE(isPodAvailable(*pod("q", "n1", "Running", false), 0, kNow));
  json gone = *p;
  gone["metadata"]["deletionTimestamp"] = kubeapi::formatTime(kNow);
  EXPECT_FALSE(isPodActive(gone));
}

}  // namespace active_pods_test
}  // namespace berth::controlplane::controllers
