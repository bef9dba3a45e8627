// Each default filter's pass and fail, with upstream's reason strings.
#include "controlplane/scheduler/filters.h"

#include <gtest/gtest.h>

#include "controlplane/scheduler/test_objects.h"

namespace berth::controlplane::scheduler {
namespace filters_test {

using namespace testing;

std::string reasonOf(const FilterStatus& s) {
  return s.reasons.empty() ? "" : s.reasons[0];
}

TEST(PodRequests, InitContainersTakeTheMaxSidecarsAddAndOverheadComesOnTop) {
  auto p = pod("p", "500m", "100Mi");
  p["spec"]["initContainers"] = {
      {{"name", "init"}, {"resources", {{"requests", {{"cpu", "2"}}}}}},
      {{"name", "sidecar"},
       {"restartPolicy", "Always"},
       {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "50Mi"}}}}}}};
  p["spec"]["overhead"] = {{"cpu", "10m"}};
  Resources r = podRequests(p);
  EXPECT_EQ(r.milliCpu, 2010);  // max(500+100, 2000) + 10
  EXPECT_EQ(r.memory, 150 * 1024 * 1024);
  auto limitsOnly = pod("q");
  limitsOnly["spec"]["containers"][0]["resources"]["limits"] = {{"cpu", "1"}};
  EXPECT_EQ(podRequests(limitsOnly).milliCpu, 1000);
  EXPECT_EQ(podNonZeroRequests(pod("z")).milliCpu, 100);
  EXPECT_EQ(podNonZeroRequests(pod("z")).memory, 200 * 1024 * 1024);
}

TEST(NodeResourcesFit, CountsAssignedPodsAndNamesEachShortResource) {
  auto s = snapshotOf({node("n1", "2", "1Gi")}, {on(pod("a", "1500m", "512Mi"), "n1")});
  const auto& n1 = s.nodes[0];
  EXPECT_TRUE(nodeResourcesFit(pod("fits", "500m", "512Mi"), n1, s).ok());
  auto st = nodeResourcesFit(pod("big", "600m", "600Mi"), n1, s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulable);
  EXPECT_EQ(st.reasons, (std::vector<std::string>{"Insufficient cpu", "Insufficient memory"}));
  // More than the node has at all: preemption can't help.
  EXPECT_EQ(nodeResourcesFit(pod("huge", "3"), n1, s).code,
            FilterCode::kUnschedulableAndUnresolvable);
  auto full = node("n2");
  full["status"]["allocatable"]["pods"] = "1";
  auto s2 = snapshotOf({full}, {on(pod("a"), "n2")});
  EXPECT_EQ(reasonOf(nodeResourcesFit(pod("b"), s2.nodes[0], s2)), "Too many pods");
  auto gpu = pod("gpu");
  gpu["spec"]["containers"][0]["resources"]["requests"]["example.com/gpu"] = "1";
  EXPECT_EQ(reasonOf(nodeResourcesFit(gpu, n1, s)), "Insufficient example.com/gpu");
}

TEST(NodeName, OnlyTheNamedNode) {
  auto s = snapshotOf({node("n1")});
  EXPECT_TRUE(nodeName(pod("p"), s.nodes[0], s).ok());
  EXPECT_TRUE(nodeName(on(pod("p"), "n1"), s.nodes[0], s).ok());
  auto st = nodeName(on(pod("p"), "n2"), s.nodes[0], s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(reasonOf(st), "node(s) didn't match the requested node name");
}

TEST(NodeAffinity, NodeSelectorAndRequiredTerms) {
  auto s = snapshotOf({node("n1", "4", "8Gi", {{"disk", "ssd"}, {"gen", "5"}})});
  const auto& n1 = s.nodes[0];
  auto p = pod("p");
  p["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_TRUE(nodeAffinity(p, n1, s).ok());
  p["spec"]["nodeSelector"] = {{"disk", "hdd"}};
  EXPECT_EQ(reasonOf(nodeAffinity(p, n1, s)), "node(s) didn't match Pod's node affinity/selector");

  auto withTerms = [](nlohmann::json terms) {
    auto q = pod("q");
    q["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms", terms}};
    return q;
  };
  auto expr = [](std::string key, std::string op, std::vector<std::string> values) {
    nlohmann::json e = {{"key", key}, {"operator", op}};
    if (!values.empty()) e["values"] = values;
    return nlohmann::json{{"matchExpressions", {e}}};
  };
  struct Case {
    nlohmann::json terms;
    bool fits;
  } cases[] = {
      {{expr("disk", "In", {"ssd", "nvme"})}, true},
      {{expr("disk", "NotIn", {"ssd"})}, false},
      {{expr("disk", "Exists", {})}, true},
      {{expr("gpu", "DoesNotExist", {})}, true},
      {{expr("gen", "Gt", {"4"})}, true},
      {{expr("gen", "Lt", {"4"})}, false},
      {{expr("gpu", "Exists", {}), expr("disk", "Exists", {})}, true},  // terms are ORed
      {{nlohmann::json::object()}, false},                              // an empty term
      {{{{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"n1"}}}}}}},
       true},
      {{{{"matchFields", {{{"key", "metadata.name"}, {"operator", "NotIn"}, {"values", {"n1"}}}}}}},
       false},
  };
  for (const auto& c : cases)
    EXPECT_EQ(nodeAffinity(withTerms(c.terms), n1, s).ok(), c.fits) << c.terms.dump();
}

TEST(TaintToleration, NoScheduleAndNoExecuteNeedATolerationPreferNoScheduleDoesNot) {
  auto n = node("n1");
  n["spec"]["taints"] = {{{"key", "soft"}, {"effect", "PreferNoSchedule"}},
                         {{"key", "node.kubernetes.io/not-ready"}, {"effect", "NoSchedule"}}};
  auto s = snapshotOf({n});
  auto st = taintToleration(pod("p"), s.nodes[0], s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(reasonOf(st), "node(s) had untolerated taint {node.kubernetes.io/not-ready: }");
  auto tolerating = pod("t");
  tolerating["spec"]["tolerations"] = {
      {{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}};
  EXPECT_TRUE(taintToleration(tolerating, s.nodes[0], s).ok());
  auto wrongValue = pod("w");
  n["spec"]["taints"] = {{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoExecute"}}};
  wrongValue["spec"]["tolerations"] = {{{"key", "dedicated"}, {"value", "db"}}};
  auto s2 = snapshotOf({n});
  EXPECT_EQ(reasonOf(taintToleration(wrongValue, s2.nodes[0], s2)),
            "node(s) had untolerated taint {dedicated: gpu}");
  wrongValue["spec"]["tolerations"][0]["value"] = "gpu";
  EXPECT_TRUE(taintToleration(wrongValue, s2.nodes[0], s2).ok());
}

TEST(NodeUnschedulable, CordonedUnlessTolerated) {
  auto n = node("n1");
  n["spec"]["unschedulable"] = true;
  auto s = snapshotOf({n});
  EXPECT_EQ(reasonOf(nodeUnschedulable(pod("p"), s.nodes[0], s)), "node(s) were unschedulable");
  auto p = pod("p");
  p["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/unschedulable"},
                               {"operator", "Exists"},
                               {"effect", "NoSchedule"}}};
  EXPECT_TRUE(nodeUnschedulable(p, s.nodes[0], s).ok());
}

TEST(NodePorts, ConflictsByProtocolAndHostIp) {
  auto withPort = [](std::string name, int port, std::string protocol, std::string ip) {
    auto p = pod(name);
    nlohmann::json cp = {{"containerPort", 80}, {"hostPort", port}, {"protocol", protocol}};
    if (!ip.empty()) cp["hostIP"] = ip;
    p["spec"]["containers"][0]["ports"] = {cp};
    return p;
  };
  auto s = snapshotOf({node("n1")}, {on(withPort("a", 8080, "TCP", "127.0.0.1"), "n1")});
  const auto& n1 = s.nodes[0];
  EXPECT_EQ(reasonOf(nodePorts(withPort("b", 8080, "TCP", ""), n1, s)),
            "node(s) didn't have free ports for the requested pod ports");
  EXPECT_FALSE(nodePorts(withPort("c", 8080, "TCP", "127.0.0.1"), n1, s).ok());
  EXPECT_TRUE(nodePorts(withPort("d", 8080, "UDP", ""), n1, s).ok());
  EXPECT_TRUE(nodePorts(withPort("e", 8080, "TCP", "127.0.0.2"), n1, s).ok());
  EXPECT_TRUE(nodePorts(withPort("f", 8081, "TCP", ""), n1, s).ok());
}

nlohmann::json labelled(nlohmann::json p, nlohmann::json labels) {
  p["metadata"]["labels"] = std::move(labels);
  return p;
}

nlohmann::json withPodAffinity(nlohmann::json p, const char* kind, nlohmann::json matchLabels,
                               const std::string& topologyKey) {
  p["spec"]["affinity"][kind]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {{"labelSelector", {{"matchLabels", matchLabels}}}, {"topologyKey", topologyKey}}};
  return p;
}

TEST(InterPodAffinity, AffinityAntiAffinityAndExistingPodsAntiAffinity) {
  auto zoneA = [](std::string n) { return node(n, "4", "8Gi", {{"zone", "a"}}); };
  auto s = snapshotOf({zoneA("n1"), zoneA("n2"), node("n3", "4", "8Gi", {{"zone", "b"}})},
                      {on(labelled(pod("db"), {{"app", "db"}}), "n1")});
  auto near = withPodAffinity(pod("web"), "podAffinity", {{"app", "db"}}, "zone");
  EXPECT_TRUE(interPodAffinity(near, s.nodes[1], s).ok());  // same zone as db
  auto st = interPodAffinity(near, s.nodes[2], s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(reasonOf(st), "node(s) didn't match pod affinity rules");
  // The first pod of a group with affinity to itself may go anywhere.
  auto self = withPodAffinity(labelled(pod("c0"), {{"app", "cache"}}), "podAffinity",
                              {{"app", "cache"}}, "zone");
  EXPECT_TRUE(interPodAffinity(self, s.nodes[2], s).ok());

  auto apart =
      withPodAffinity(pod("web"), "podAntiAffinity", {{"app", "db"}}, "kubernetes.io/hostname");
  EXPECT_EQ(reasonOf(interPodAffinity(apart, s.nodes[0], s)),
            "node(s) didn't match pod anti-affinity rules");
  EXPECT_TRUE(interPodAffinity(apart, s.nodes[1], s).ok());

  auto loner = withPodAffinity(labelled(pod("l"), {{"app", "loner"}}), "podAntiAffinity",
                               {{"app", "web"}}, "zone");
  auto s2 = snapshotOf({zoneA("n1"), zoneA("n2"), node("n3", "4", "8Gi", {{"zone", "b"}})},
                       {on(loner, "n1")});
  auto web = labelled(pod("web"), {{"app", "web"}});
  EXPECT_EQ(reasonOf(interPodAffinity(web, s2.nodes[1], s2)),
            "node(s) didn't satisfy existing pods anti-affinity rules");
  EXPECT_TRUE(interPodAffinity(web, s2.nodes[2], s2).ok());
  // Terms look at the pod's own namespace unless they name others.
  auto elsewhere = web;
  elsewhere["metadata"]["namespace"] = "other";
  EXPECT_TRUE(interPodAffinity(elsewhere, s2.nodes[1], s2).ok());
}

TEST(InterPodAffinity, NamespaceSelectorPicksNamespacesByTheirLabels) {
  auto db = labelled(pod("db"), {{"app", "db"}});
  db["metadata"]["namespace"] = "prod";
  auto s = snapshotOf({node("n1"), node("n2")}, {on(db, "n1")});
  s.namespaceLabels = {{"default", nlohmann::json::object()}, {"prod", {{"env", "prod"}}}};
  auto near = withPodAffinity(pod("web"), "podAffinity", {{"app", "db"}}, "kubernetes.io/hostname");
  EXPECT_FALSE(interPodAffinity(near, s.nodes[0], s).ok());  // looks in its own namespace only
  near["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
      ["namespaceSelector"] = {{"matchLabels", {{"env", "prod"}}}};
  EXPECT_TRUE(interPodAffinity(near, s.nodes[0], s).ok());
  EXPECT_FALSE(interPodAffinity(near, s.nodes[1], s).ok());
  near["spec"]["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
      ["namespaceSelector"] = nlohmann::json::object();  // every namespace
  EXPECT_TRUE(interPodAffinity(near, s.nodes[0], s).ok());
}

TEST(PodTopologySpread, DoNotScheduleKeepsTheSkewAndNeedsTheLabel) {
  auto spread = labelled(pod("w"), {{"app", "web"}});
  spread["spec"]["topologySpreadConstraints"] = {
      {{"maxSkew", 1},
       {"topologyKey", "zone"},
       {"whenUnsatisfiable", "DoNotSchedule"},
       {"labelSelector", {{"matchLabels", {{"app", "web"}}}}}}};
  auto s = snapshotOf({node("n1", "4", "8Gi", {{"zone", "a"}}),
                       node("n2", "4", "8Gi", {{"zone", "b"}}), node("n3")},
                      {on(labelled(pod("w0"), {{"app", "web"}}), "n1")});
  EXPECT_EQ(reasonOf(podTopologySpread(spread, s.nodes[0], s)),
            "node(s) didn't match pod topology spread constraints");
  EXPECT_TRUE(podTopologySpread(spread, s.nodes[1], s).ok());
  auto st = podTopologySpread(spread, s.nodes[2], s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(reasonOf(st),
            "node(s) didn't match pod topology spread constraints (missing required label)");
  // ScheduleAnyway is no filter.
  spread["spec"]["topologySpreadConstraints"][0]["whenUnsatisfiable"] = "ScheduleAnyway";
  EXPECT_TRUE(podTopologySpread(spread, s.nodes[0], s).ok());
}

TEST(VolumeBinding, ClaimsMustExistBeBoundAndTheirLocalVolumeMustBeReachable) {
  auto s = snapshotOf({node("n1"), node("n2")});
  auto p = pod("p");
  p["spec"]["volumes"] = {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data"}}}}};
  EXPECT_EQ(reasonOf(preFilter(p, s)), "persistentvolumeclaim \"data\" not found");
  nlohmann::json claim = {{"metadata", {{"name", "data"}, {"namespace", "default"}}},
                          {"spec", {{"storageClassName", "local"}}}};
  s.claims["default/data"] = ptr(claim);
  EXPECT_EQ(reasonOf(preFilter(p, s)), "pod has unbound immediate PersistentVolumeClaims");
  auto deleting = claim;
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  s.claims["default/data"] = ptr(deleting);
  EXPECT_EQ(reasonOf(preFilter(p, s)), "persistentvolumeclaim \"data\" is being deleted");
  s.claims["default/data"] = ptr(claim);
  s.storageClasses["local"] =
      ptr({{"metadata", {{"name", "local"}}}, {"volumeBindingMode", "WaitForFirstConsumer"}});
  EXPECT_TRUE(preFilter(p, s).ok());
  EXPECT_EQ(delayedClaims(p, s), (std::vector<std::string>{"data"}));
  claim["spec"]["volumeName"] = "pv1";
  s.claims["default/data"] = ptr(claim);
  EXPECT_TRUE(preFilter(p, s).ok());
  EXPECT_EQ(reasonOf(volumeBinding(p, s.nodes[0], s)),
            "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)");
  s.volumes["pv1"] = ptr(nlohmann::json::parse(R"({
    "metadata": {"name": "pv1"},
    "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
      {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}}})"));
  EXPECT_TRUE(delayedClaims(p, s).empty());
  EXPECT_TRUE(volumeBinding(p, s.nodes[0], s).ok());
  auto st = volumeBinding(p, s.nodes[1], s);
  EXPECT_EQ(st.code, FilterCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(reasonOf(st), "node(s) had volume node affinity conflict");
}

}  // namespace filters_test
}  // namespace berth::controlplane::scheduler
