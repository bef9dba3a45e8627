// A whole cycle: the node picked, or FitError's message as kube-scheduler writes it.
#include "controlplane/scheduler/schedule_pod.h"

#include <set>

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::controlplane::scheduler {
namespace schedule_pod_test {

using namespace testing;

nlohmann::json notReady(const std::string& name) {
  auto n = node(name);
  n["spec"]["taints"] = {{{"key", "node.kubernetes.io/not-ready"}, {"effect", "NoSchedule"}}};
  return n;
}

TEST(SchedulePod, UpstreamMessageForInsufficientCpuAndTaints) {
  auto s = snapshotOf({node("n1", "1"), notReady("n2"), notReady("n3")});
  std::mt19937_64 rng(1);
  auto r = schedulePod(pod("p", "2"), s, rng);
  ASSERT_FALSE(r.node);
  EXPECT_EQ(r.message,
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
            "{node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 "
            "Preemption is not helpful for scheduling.");
}

TEST(SchedulePod, NoVictimsWhenOtherPodsTakeTheRoom) {
  auto s = snapshotOf({node("n1", "1")}, {on(pod("a", "800m"), "n1")});
  std::mt19937_64 rng(1);
  auto r = schedulePod(pod("p", "500m"), s, rng);
  EXPECT_EQ(r.message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.");
  auto never = pod("p", "500m");
  never["spec"]["preemptionPolicy"] = "Never";
  EXPECT_EQ(schedulePod(never, s, rng).message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to "
            "preemptionPolicy=Never.");
}

TEST(SchedulePod, PreFilterMessageStandsForEveryNode) {
  auto s = snapshotOf({node("n1"), node("n2")});
  auto p = pod("p");
  p["spec"]["volumes"] = {{{"name", "d"}, {"persistentVolumeClaim", {{"claimName", "gone"}}}}};
  std::mt19937_64 rng(1);
  EXPECT_EQ(schedulePod(p, s, rng).message,
            "0/2 nodes are available: persistentvolumeclaim \"gone\" not found. preemption: 0/2 "
            "nodes are available: 2 Preemption is not helpful for scheduling.");
}

TEST(SchedulePod, NoNodes) {
  std::mt19937_64 rng(1);
  auto r = schedulePod(pod("p"), Snapshot{}, rng);
  EXPECT_TRUE(r.noNodes);
  EXPECT_EQ(r.message, "no nodes available to schedule pods");
}

TEST(SchedulePod, PicksTheOnlyFittingNodeAndSpreadsOverEqualOnes) {
  auto s = snapshotOf({node("n1", "1"), node("n2", "4"), notReady("n3")});
  std::mt19937_64 rng(1);
  EXPECT_EQ(schedulePod(pod("p", "2"), s, rng).node, "n2");
  auto equal = snapshotOf({node("a"), node("b"), node("c")});
  std::set<std::string> chosen;
  for (int i = 0; i < 100; ++i)
    chosen.insert(*schedulePod(pod("p"), equal, rng).node);
  EXPECT_EQ(chosen.size(), 3u);  // ties broken at random
}

}  // namespace schedule_pod_test
}  // namespace berth::controlplane::scheduler
