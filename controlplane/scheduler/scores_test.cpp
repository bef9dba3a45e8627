// The default scores' arithmetic (upstream's formulas) and the tie-break.
#include "controlplane/scheduler/scores.h"

#include <set>

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::controlplane::scheduler {
namespace scores_test {

using namespace testing;

struct Fixture {
  Snapshot s;
  Nodes nodes;
  Fixture(std::vector<nlohmann::json> ns, std::vector<nlohmann::json> pods = {}) {
    std::vector<kubeapi::ObjectPtr> n, p;
    for (auto& x : ns)
      n.push_back(ptr(std::move(x)));
    for (auto& x : pods)
      p.push_back(ptr(std::move(x)));
    s = Snapshot::build(std::move(n), p);
    for (const auto& info : s.nodes)
      nodes.push_back(&info);
  }
};

TEST(LeastAllocated, FavoursTheEmptierNode) {
  Fixture f({node("n1", "4", "4Gi"), node("n2", "4", "4Gi")}, {on(pod("a", "2", "2Gi"), "n1")});
  auto scores = leastAllocatedScore(pod("p", "1", "1Gi"), f.nodes, f.s);
  EXPECT_EQ(scores, (std::vector<std::int64_t>{25, 75}));  // (4-3)/4 and (4-1)/4, both resources
}

TEST(BalancedAllocation, FavoursEqualShares) {
  Fixture f({node("n1", "4", "4Gi"), node("n2", "4", "4Gi")}, {on(pod("a", "2"), "n1")});
  auto scores = balancedAllocationScore(pod("p", "1", "1Gi"), f.nodes, f.s);
  // n1: cpu 3/4, memory 1/4 -> 1 - 0.25; n2: 1/4 and 1/4 -> 1.
  EXPECT_EQ(scores, (std::vector<std::int64_t>{75, 100}));
}

TEST(TaintTolerationScore, PreferNoScheduleTaintsCountAgainstANode) {
  auto tainted = node("n1");
  tainted["spec"]["taints"] = {{{"key", "soft"}, {"effect", "PreferNoSchedule"}}};
  Fixture f(std::vector<nlohmann::json>{tainted, node("n2")});
  EXPECT_EQ(taintTolerationScore(pod("p"), f.nodes, f.s), (std::vector<std::int64_t>{0, 100}));
  auto tolerating = pod("t");
  tolerating["spec"]["tolerations"] = {{{"key", "soft"}, {"operator", "Exists"}}};
  EXPECT_EQ(taintTolerationScore(tolerating, f.nodes, f.s), (std::vector<std::int64_t>{100, 100}));
}

TEST(NodeAffinityScore, SumsTheWeightsOfMatchingPreferences) {
  Fixture f(std::vector<nlohmann::json>{node("n1", "4", "8Gi", {{"disk", "ssd"}}), node("n2")});
  auto p = pod("p");
  p["spec"]["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = {
      {{"weight", 10},
       {"preference",
        {{"matchExpressions", {{{"key", "disk"}, {"operator", "In"}, {"values", {"ssd"}}}}}}}}};
  EXPECT_EQ(nodeAffinityScore(p, f.nodes, f.s), (std::vector<std::int64_t>{100, 0}));
}

TEST(PodTopologySpreadScore, ScheduleAnywayPrefersTheEmptierDomain) {
  auto web = [](std::string name) {
    auto p = pod(name);
    p["metadata"]["labels"] = {{"app", "web"}};
    p["spec"]["topologySpreadConstraints"] = {
        {{"maxSkew", 1},
         {"topologyKey", "kubernetes.io/hostname"},
         {"whenUnsatisfiable", "ScheduleAnyway"},
         {"labelSelector", {{"matchLabels", {{"app", "web"}}}}}}};
    return p;
  };
  Fixture f({node("n1"), node("n2")}, {on(web("w0"), "n1"), on(web("w1"), "n1")});
  auto scores = podTopologySpreadScore(web("w2"), f.nodes, f.s);
  EXPECT_LT(scores[0], scores[1]);
  EXPECT_EQ(scores[1], 100);
}

TEST(PodTopologySpreadScore, SystemDefaultsSpreadThePodsOfAServiceOrReplicaSet) {
  auto web = [](std::string name) {
    auto p = pod(name);
    p["metadata"]["labels"] = {{"app", "web"}};
    return p;
  };
  Fixture f({node("n1"), node("n2")}, {on(web("w0"), "n1"), on(web("w1"), "n1")});
  // Nothing selects the pods: no default constraints.
  EXPECT_EQ(podTopologySpreadScore(web("w2"), f.nodes, f.s), (std::vector<std::int64_t>{0, 0}));
  f.s.services = {ptr({{"metadata", {{"name", "web"}, {"namespace", "default"}}},
                       {"spec", {{"selector", {{"app", "web"}}}}}})};
  auto scores = podTopologySpreadScore(web("w2"), f.nodes, f.s);
  EXPECT_LT(scores[0], scores[1]);  // no zone labels: the hostname constraint alone decides
  f.s.services.clear();
  f.s.replicaSets["default/web-1"] =
      ptr({{"metadata", {{"name", "web-1"}, {"namespace", "default"}}},
           {"spec", {{"selector", {{"matchLabels", {{"app", "web"}}}}}}}});
  auto owned = web("w2");
  owned["metadata"]["ownerReferences"] = {
      {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "web-1"}, {"controller", true}}};
  EXPECT_EQ(podTopologySpreadScore(owned, f.nodes, f.s), scores);
}

TEST(InterPodAffinityScore, PreferredAffinityAttractsAndAntiAffinityRepels) {
  auto db = pod("db");
  db["metadata"]["labels"] = {{"app", "db"}};
  Fixture f({node("n1"), node("n2"), node("n3")}, {on(db, "n2")});
  auto prefer = [](const char* kind, int weight) {
    auto p = pod("web");
    p["spec"]["affinity"][kind]["preferredDuringSchedulingIgnoredDuringExecution"] =
        nlohmann::json::array({{{"weight", weight}, {"podAffinityTerm", nlohmann::json::parse(R"({
          "labelSelector": {"matchLabels": {"app": "db"}},
          "topologyKey": "kubernetes.io/hostname"})")}}});
    return p;
  };
  EXPECT_EQ(interPodAffinityScore(prefer("podAffinity", 5), f.nodes, f.s),
            (std::vector<std::int64_t>{0, 100, 0}));
  EXPECT_EQ(interPodAffinityScore(prefer("podAntiAffinity", 5), f.nodes, f.s),
            (std::vector<std::int64_t>{100, 0, 100}));
  EXPECT_EQ(interPodAffinityScore(pod("plain"), f.nodes, f.s),
            (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(ImageLocality, NodesHoldingTheImageScoreHigher) {
  auto withImage = node("n1");
  withImage["status"]["images"] = {{{"names", {"docker.io/library/big:latest", "big:latest"}},
                                    {"sizeBytes", 500LL * 1024 * 1024}}};
  Fixture f(std::vector<nlohmann::json>{withImage, node("n2")});
  auto p = pod("p");
  p["spec"]["containers"][0]["image"] = "big";
  auto scores = imageLocalityScore(p, f.nodes, f.s);
  EXPECT_GT(scores[0], 0);
  EXPECT_EQ(scores[1], 0);
}

TEST(SelectHost, PicksAmongTheBestOnly) {
  std::mt19937_64 rng(1);
  std::set<size_t> picked;
  for (int i = 0; i < 200; ++i)
    picked.insert(selectHost({5, 9, 3, 9, 9}, rng));
  EXPECT_EQ(picked, (std::set<size_t>{1, 3, 4}));
}

}  // namespace scores_test
}  // namespace berth::controlplane::scheduler
