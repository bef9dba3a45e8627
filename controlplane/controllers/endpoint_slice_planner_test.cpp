// planEndpointSlices on tables of pods and existing slices.
#include "controlplane/controllers/endpoint_slice_planner.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace endpoint_slice_planner_test {

using nlohmann::json;

json service(json spec = json::object()) {
  json svc = {{"metadata", {{"name", "web"}, {"namespace", "ns"}, {"uid", "svc-uid"}}},
              {"spec",
               {{"clusterIP", "10.43.0.10"},
                {"ipFamilies", {"IPv4"}},
                {"selector", {{"app", "web"}}},
                {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}}}}}};
  svc["spec"].update(spec);
  return svc;
}

kubeapi::ObjectPtr pod(const std::string& name, const std::string& ip, bool ready = true,
                       const std::string& portName = "http") {
  json p = {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", name + "-uid"}}},
            {"spec",
             {{"nodeName", "n1"},
              {"containers",
               {{{"name", "c"}, {"ports", {{{"name", portName}, {"containerPort", 8080}}}}}}}}},
            {"status",
             {{"phase", "Running"},
              {"podIP", ip},
              {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  return std::make_shared<const json>(std::move(p));
}

SlicePlan plan(const json& svc, const std::vector<kubeapi::ObjectPtr>& pods,
               const std::vector<kubeapi::ObjectPtr>& existing, size_t max = 100) {
  return planEndpointSlices({.service = svc,
                             .pods = pods,
                             .existing = existing,
                             .nodeZone = [](const std::string& node) -> std::optional<std::string> {
                               if (node == "n1") return "z1";
                               return std::nullopt;
                             },
                             .maxEndpointsPerSlice = max});
}

// The slices as the server would hold them after the plan was applied.
std::vector<kubeapi::ObjectPtr> written(const SlicePlan& p) {
  std::vector<kubeapi::ObjectPtr> out;
  int n = 0;
  for (json s : p.create) {
    s["metadata"]["name"] = "web-" + std::to_string(n++);
    out.push_back(std::make_shared<const json>(std::move(s)));
  }
  for (const json& s : p.update)
    out.push_back(std::make_shared<const json>(s));
  return out;
}

TEST(EndpointSlicePlannerTest, ServiceWithoutPodsGetsOnePlaceholderPerFamily) {
  auto p = plan(service({{"ipFamilies", {"IPv4", "IPv6"}}}), {}, {});
  ASSERT_EQ(p.create.size(), 2u);
  EXPECT_EQ(p.create[0]["addressType"], "IPv4");
  EXPECT_EQ(p.create[1]["addressType"], "IPv6");
  EXPECT_TRUE(p.create[0]["endpoints"].empty());
  EXPECT_TRUE(p.create[0]["ports"].empty());
  // Planned again on what was written: nothing to do.
  EXPECT_TRUE(plan(service({{"ipFamilies", {"IPv4", "IPv6"}}}), {}, written(p)).empty());
}

TEST(EndpointSlicePlannerTest, PlaceholderBecomesTheFirstSlice) {
  auto first = plan(service(), {}, {});
  auto second = plan(service(), {pod("a", "10.0.0.1")}, written(first));
  EXPECT_TRUE(second.create.empty());
  EXPECT_TRUE(second.remove.empty());
  ASSERT_EQ(second.update.size(), 1u);
  EXPECT_EQ(second.update[0]["metadata"]["name"], "web-0");
  EXPECT_EQ(second.update[0]["endpoints"].size(), 1u);
  EXPECT_EQ(second.update[0]["ports"][0]["port"], 8080);
}

TEST(EndpointSlicePlannerTest, DualStackPlaceholdersBecomeTheSlicesOfTheirFamily) {
  json svc = service({{"ipFamilies", {"IPv4", "IPv6"}}});
  json p = *pod("a", "10.0.0.1");
  p["status"]["podIPs"] = {{{"ip", "10.0.0.1"}}, {{"ip", "fd00::1"}}};
  auto second = plan(svc, {std::make_shared<const json>(p)}, written(plan(svc, {}, {})));
  EXPECT_TRUE(second.create.empty());
  EXPECT_TRUE(second.remove.empty());
  ASSERT_EQ(second.update.size(), 2u);
  for (const auto& s : second.update)
    EXPECT_EQ(s["endpoints"][0]["addresses"][0],
              s["addressType"] == "IPv4" ? "10.0.0.1" : "fd00::1");
}

TEST(EndpointSlicePlannerTest, AtMostMaxEndpointsPerSliceAndStablePlacement) {
  std::vector<kubeapi::ObjectPtr> pods;
  for (int i = 0; i < 5; ++i)
    pods.push_back(pod("p" + std::to_string(i), "10.0.0." + std::to_string(i + 1)));
  auto first = plan(service(), pods, {}, 2);
  ASSERT_EQ(first.create.size(), 3u);
  for (const auto& s : first.create)
    EXPECT_LE(s["endpoints"].size(), 2u);
  auto slices = written(first);
  EXPECT_TRUE(plan(service(), pods, slices, 2).empty());

  // One pod goes not ready: only its slice is written.
  pods[0] = pod("p0", "10.0.0.1", false);
  auto second = plan(service(), pods, slices, 2);
  EXPECT_TRUE(second.create.empty());
  EXPECT_TRUE(second.remove.empty());
  ASSERT_EQ(second.update.size(), 1u);
  EXPECT_EQ(second.update[0]["metadata"]["name"], "web-0");
}

TEST(EndpointSlicePlannerTest, PodsAreGroupedByResolvedPorts) {
  // b names its port differently: the named targetPort does not resolve, so b has no ports.
  auto p = plan(service(), {pod("a", "10.0.0.1"), pod("b", "10.0.0.2", true, "web")}, {});
  ASSERT_EQ(p.create.size(), 2u);
  EXPECT_EQ(p.create[0]["ports"].size() + p.create[1]["ports"].size(), 1u);
}

TEST(EndpointSlicePlannerTest, PodOnUnknownNodeIsSkippedUnlessPublishingNotReady) {
  json p = *pod("a", "10.0.0.1");
  p["spec"]["nodeName"] = "gone";
  auto ptr = std::make_shared<const json>(p);
  auto skipped = plan(service(), {ptr}, {});
  EXPECT_EQ(skipped.skippedPods, std::vector<std::string>{"a"});
  EXPECT_TRUE(skipped.create.at(0)["endpoints"].empty());
  auto published = plan(service({{"publishNotReadyAddresses", true}}), {ptr}, {});
  EXPECT_TRUE(published.skippedPods.empty());
  EXPECT_EQ(published.create.at(0)["endpoints"].size(), 1u);
}

TEST(EndpointSlicePlannerTest, SliceOfAnotherServiceUidIsDeleted) {
  auto first = plan(service(), {pod("a", "10.0.0.1")}, {});
  auto slices = written(first);
  json recreated = service();
  recreated["metadata"]["uid"] = "new-uid";
  auto p = plan(recreated, {pod("a", "10.0.0.1")}, slices);
  EXPECT_EQ(p.remove.size(), 1u);
  ASSERT_EQ(p.create.size(), 1u);
  EXPECT_EQ(p.create[0]["metadata"]["ownerReferences"][0]["uid"], "new-uid");
}

}  // namespace endpoint_slice_planner_test
}  // namespace berth::controlplane::controllers
