// The "endpointslice" and "endpoint" controllers against berth-server: pods created with kubectl,
// their readiness written as a kubelet would, the slices and Endpoints read back with kubectl.
#include <gtest/gtest.h>

#include "kubeapi/meta_time.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

class EndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override { startWith({}); }

  void startWith(std::vector<std::string> serverArgs,
                 std::vector<std::string> controllers = {"endpointslice", "endpoint"}) {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto cp = ControlPlaneFixture::start({.extraArgs = std::move(serverArgs)});
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    ASSERT_TRUE(cp_->createReadyNode("n1", "4", "8Gi", {{"topology.kubernetes.io/zone", "z1"}}));
    auto started = cp_->startControllers(std::move(controllers));
    ASSERT_TRUE(started) << started.error().message();
  }

  ServerFixture& server() { return cp_->server(); }

  void apply(const json& object) { server().kubectlOk({"apply", "-f", "-"}, object.dump()); }

  // A pod of app=<app> on n1 whose container names port 8080 "http".
  void createPod(const std::string& name, const std::string& app, json finalizers = json()) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
                {"spec",
                 {{"nodeName", "n1"},
                  {"containers",
                   {{{"name", "c"},
                     {"image", "busybox"},
                     {"ports", {{{"name", "http"}, {"containerPort", 8080}}}}}}}}}};
    if (!finalizers.is_null()) pod["metadata"]["finalizers"] = finalizers;
    apply(pod);
  }

  // Writes the pod's IPs and Ready condition through pods/status, as its kubelet would.
  void setPodStatus(const std::string& name, std::vector<std::string> ips, bool ready) {
    if (ready && ips.size() == 1) {
      ASSERT_TRUE(cp_->markPodReady("default", name, ips[0]));
      return;
    }
    auto pods = cp_->client()->resource({"", "v1", "pods"}).inNamespace("default");
    auto pod = pods.get(name);
    ASSERT_TRUE(pod);
    std::string now = kubeapi::formatTime(kubeapi::now());
    json& status = (*pod)["status"];
    status["phase"] = "Running";
    status["podIP"] = ips[0];
    status["podIPs"] = json::array();
    for (const auto& ip : ips)
      status["podIPs"].push_back({{"ip", ip}});
    status["conditions"] = {
        {{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"lastTransitionTime", now}}};
    ASSERT_TRUE(pods.updateStatus(*pod));
  }

  void createService(const std::string& name, json spec) {
    apply({{"apiVersion", "v1"},
           {"kind", "Service"},
           {"metadata", {{"name", name}, {"labels", {{"team", "a"}}}}},
           {"spec", std::move(spec)}});
  }

  json getJson(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"get"};
    all.insert(all.end(), args.begin(), args.end());
    all.insert(all.end(), {"-o", "json"});
    auto r = server().kubectl(all);
    return r.exitCode == 0 ? json::parse(r.out) : json();
  }
  json slicesOf(const std::string& service) {
    json list = getJson({"endpointslices", "-l", "kubernetes.io/service-name=" + service});
    return list.is_null() ? json::array() : list["items"];
  }
  json endpointsOf(const std::string& service) { return getJson({"endpoints", service}); }

  // The endpoints of all slices of a family, by pod name.
  std::map<std::string, json> sliceEndpoints(const std::string& service,
                                             const std::string& type = "IPv4") {
    std::map<std::string, json> out;
    for (const json& s : slicesOf(service))
      if (s["addressType"] == type)
        for (const json& e : s.value("endpoints", json::array()))
          out[e["targetRef"]["name"].get<std::string>()] = e;
    return out;
  }

  std::unique_ptr<ControlPlaneFixture> cp_;
};

json webService() {
  return {{"selector", {{"app", "web"}}},
          {"ports", {{{"name", "web"}, {"port", 80}, {"targetPort", "http"}}}}};
}

TEST_F(EndpointsTest, ReadyAndNotReadyPodsWithANamedTargetPort) {
  createService("web", webService());
  createPod("p1", "web");
  createPod("p2", "web");
  createPod("other", "db");
  setPodStatus("p1", {"10.42.0.11"}, true);
  setPodStatus("p2", {"10.42.0.12"}, false);
  setPodStatus("other", {"10.42.0.13"}, true);

  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("web").size() == 2; }))
      << slicesOf("web").dump(2);
  json slices = slicesOf("web");
  ASSERT_EQ(slices.size(), 1u) << slices.dump(2);
  const json& slice = slices[0];
  EXPECT_EQ(slice["metadata"]["generateName"], "web-");
  EXPECT_EQ(slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
            "endpointslice-controller.k8s.io");
  EXPECT_EQ(slice["metadata"]["labels"]["team"], "a");
  const json& owner = slice["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Service");
  EXPECT_EQ(owner["name"], "web");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(slice["ports"], json::parse(R"([{"name":"web","port":8080,"protocol":"TCP"}])"));
  EXPECT_TRUE(slice["metadata"]["annotations"].contains(
      "endpoints.kubernetes.io/last-change-trigger-time"));

  auto eps = sliceEndpoints("web");
  EXPECT_EQ(eps["p1"]["addresses"], json::array({"10.42.0.11"}));
  EXPECT_EQ(eps["p1"]["conditions"],
            json::parse(R"({"ready":true,"serving":true,"terminating":false})"));
  EXPECT_EQ(eps["p1"]["nodeName"], "n1");
  EXPECT_EQ(eps["p1"]["zone"], "z1");
  EXPECT_EQ(eps["p2"]["conditions"],
            json::parse(R"({"ready":false,"serving":false,"terminating":false})"));

  ASSERT_TRUE(cp_->eventually([&] {
    json e = endpointsOf("web");
    return !e.is_null() && e.contains("subsets") && e["subsets"].size() == 1 &&
           e["subsets"][0].contains("notReadyAddresses");
  })) << endpointsOf("web").dump(2);
  json subset = endpointsOf("web")["subsets"][0];
  ASSERT_EQ(subset["addresses"].size(), 1u);
  EXPECT_EQ(subset["addresses"][0]["ip"], "10.42.0.11");
  EXPECT_EQ(subset["addresses"][0]["targetRef"]["name"], "p1");
  EXPECT_EQ(subset["addresses"][0]["nodeName"], "n1");
  EXPECT_EQ(subset["notReadyAddresses"][0]["ip"], "10.42.0.12");
  EXPECT_EQ(subset["ports"], json::parse(R"([{"name":"web","port":8080,"protocol":"TCP"}])"));
  EXPECT_EQ(endpointsOf("web")["metadata"]["labels"]["team"], "a");

  // p2 becomes ready; p1 goes: both objects follow.
  setPodStatus("p2", {"10.42.0.12"}, true);
  server().kubectlOk({"delete", "pod", "p1", "--grace-period=0", "--force"});
  ASSERT_TRUE(cp_->eventually([&] {
    auto eps = sliceEndpoints("web");
    return eps.size() == 1 && eps.contains("p2") && eps["p2"]["conditions"]["ready"] == true;
  })) << slicesOf("web").dump(2);
  ASSERT_TRUE(cp_->eventually([&] {
    json s = endpointsOf("web")["subsets"];
    return s.size() == 1 && s[0]["addresses"].size() == 1 &&
           s[0]["addresses"][0]["ip"] == "10.42.0.12" && !s[0].contains("notReadyAddresses");
  })) << endpointsOf("web").dump(2);

  // p2's labels no longer match: the Service keeps only its placeholder slice.
  server().kubectlOk({"label", "pod", "p2", "app=gone", "--overwrite"});
  ASSERT_TRUE(cp_->eventually([&] {
    return sliceEndpoints("web").empty() && slicesOf("web").size() == 1 &&
           endpointsOf("web").value("subsets", json::array()).empty();
  })) << slicesOf("web").dump(2)
      << endpointsOf("web").dump(2);
}

TEST_F(EndpointsTest, TerminatingPodIsServingButNotReady) {
  createService("web", webService());
  createPod("p1", "web", json::array({"example.com/hold"}));
  setPodStatus("p1", {"10.42.0.11"}, true);
  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("web").size() == 1; }));
  server().kubectlOk({"delete", "pod", "p1", "--wait=false"});
  ASSERT_TRUE(cp_->eventually([&] {
    return sliceEndpoints("web")["p1"]["conditions"]["terminating"] == true;
  })) << slicesOf("web").dump(2);
  EXPECT_EQ(sliceEndpoints("web")["p1"]["conditions"],
            json::parse(R"({"ready":false,"serving":true,"terminating":true})"));
  // The Endpoints drop a terminating pod altogether.
  ASSERT_TRUE(cp_->eventually([&] {
    json e = endpointsOf("web");
    return !e.is_null() && e.value("subsets", json::array()).empty();
  })) << endpointsOf("web").dump(2);
  server().kubectlOk(
      {"patch", "pod", "p1", "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"});
}

TEST_F(EndpointsTest, UnchangedObjectsAreNotWrittenAndSelectorlessServicesAreLeftAlone) {
  createService("web", webService());
  createPod("p1", "web");
  setPodStatus("p1", {"10.42.0.11"}, true);
  createService("manual", {{"ports", {{{"port", 80}}}}});
  apply({{"apiVersion", "v1"},
         {"kind", "Endpoints"},
         {"metadata", {{"name", "manual"}}},
         {"subsets", {{{"addresses", {{{"ip", "192.0.2.1"}}}}, {"ports", {{{"port", 9}}}}}}}});
  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("web").size() == 1; }));
  ASSERT_TRUE(cp_->eventually([&] { return endpointsOf("web").contains("subsets"); }));
  json sliceBefore = slicesOf("web")[0];
  std::string sliceVersion = sliceBefore["metadata"]["resourceVersion"];
  std::string endpointsVersion = endpointsOf("web")["metadata"]["resourceVersion"];

  // A pod change that concerns neither object, then one for another Service: once that one is
  // done, the first event has been handled too.
  server().kubectlOk({"annotate", "pod", "p1", "note=irrelevant"});
  createService("later", {{"selector", {{"app", "later"}}}, {"ports", {{{"port", 80}}}}});
  createPod("l1", "later");
  setPodStatus("l1", {"10.42.0.31"}, true);
  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("later").size() == 1; }));
  ASSERT_TRUE(cp_->eventually([&] { return endpointsOf("later").contains("subsets"); }));
  EXPECT_EQ(slicesOf("web")[0]["metadata"]["resourceVersion"], sliceVersion)
      << sliceBefore.dump(2) << "\n"
      << slicesOf("web")[0].dump(2);
  EXPECT_EQ(endpointsOf("web")["metadata"]["resourceVersion"], endpointsVersion);

  EXPECT_TRUE(slicesOf("manual").empty()) << slicesOf("manual").dump(2);
  EXPECT_EQ(endpointsOf("manual")["subsets"][0]["addresses"][0]["ip"], "192.0.2.1");
  // A Service without pods yet has one placeholder slice.
  createService("empty", {{"selector", {{"app", "none"}}}, {"ports", {{{"port", 80}}}}});
  ASSERT_TRUE(cp_->eventually([&] { return slicesOf("empty").size() == 1; }));
  EXPECT_TRUE(slicesOf("empty")[0].value("endpoints", json::array()).empty());
}

TEST_F(EndpointsTest, HeadlessServicePublishingNotReadyAddresses) {
  createService("db", {{"clusterIP", "None"},
                       {"publishNotReadyAddresses", true},
                       {"selector", {{"app", "db"}}},
                       {"ports", {{{"port", 5432}}}}});
  createPod("db-0", "db");
  setPodStatus("db-0", {"10.42.0.41"}, false);
  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("db").size() == 1; }));
  json slice = slicesOf("db")[0];
  EXPECT_EQ(slice["metadata"]["labels"]["service.kubernetes.io/headless"], "");
  EXPECT_EQ(sliceEndpoints("db")["db-0"]["conditions"],
            json::parse(R"({"ready":true,"serving":false,"terminating":false})"));
  EXPECT_EQ(slice["ports"][0]["port"], 5432);
  ASSERT_TRUE(cp_->eventually([&] { return endpointsOf("db").contains("subsets"); }));
  json subset = endpointsOf("db")["subsets"][0];
  EXPECT_EQ(subset["addresses"][0]["ip"], "10.42.0.41");
  EXPECT_FALSE(subset.contains("notReadyAddresses"));
  EXPECT_EQ(endpointsOf("db")["metadata"]["labels"]["service.kubernetes.io/headless"], "");
}

class EndpointsWithGarbageCollectorTest : public EndpointsTest {
 protected:
  void SetUp() override { startWith({}, {"endpointslice", "endpoint", "garbagecollector"}); }
};

TEST_F(EndpointsWithGarbageCollectorTest, ServiceChangesReachItsSlicesAndEndpoints) {
  createService("web", webService());
  createPod("p1", "web");
  setPodStatus("p1", {"10.42.0.11"}, true);
  ASSERT_TRUE(cp_->eventually([&] { return sliceEndpoints("web").size() == 1; }));
  ASSERT_TRUE(cp_->eventually([&] { return endpointsOf("web").contains("subsets"); }));
  json endpoints = endpointsOf("web");
  EXPECT_TRUE(endpoints["metadata"]["annotations"].contains(
      "endpoints.kubernetes.io/last-change-trigger-time"))
      << endpoints.dump(2);

  server().kubectlOk({"label", "service", "web", "tier=front"});
  ASSERT_TRUE(cp_->eventually([&] {
    json slices = slicesOf("web");
    return slices.size() == 1 && slices[0]["metadata"]["labels"].value("tier", "") == "front" &&
           endpointsOf("web")["metadata"]["labels"].value("tier", "") == "front";
  }));

  // The slices go with their owner (garbage collector), the Endpoints with the Service.
  server().kubectlOk({"delete", "service", "web"});
  ASSERT_TRUE(cp_->eventually([&] {
    return slicesOf("web").empty() && endpointsOf("web").is_null();
  })) << slicesOf("web").dump(2)
      << endpointsOf("web").dump(2);
}

class DualStackEndpointsTest : public EndpointsTest {
 protected:
  void SetUp() override { startWith({"--service-cluster-ip-range=10.43.0.0/16,fd00:43::/112"}); }
};

TEST_F(DualStackEndpointsTest, OneSliceSetPerFamily) {
  json spec = webService();
  spec["ipFamilyPolicy"] = "RequireDualStack";
  createService("web", spec);
  json svc = getJson({"service", "web"});
  if (svc["spec"].value("ipFamilies", json::array()).size() != 2)
    GTEST_SKIP() << "berth-server gave the Service no second family: " << svc["spec"].dump();
  createPod("p1", "web");
  setPodStatus("p1", {"10.42.0.51", "fd00:42::51"}, true);
  ASSERT_TRUE(cp_->eventually([&] {
    return sliceEndpoints("web", "IPv4").size() == 1 && sliceEndpoints("web", "IPv6").size() == 1;
  })) << slicesOf("web").dump(2);
  EXPECT_EQ(sliceEndpoints("web", "IPv4")["p1"]["addresses"], json::array({"10.42.0.51"}));
  EXPECT_EQ(sliceEndpoints("web", "IPv6")["p1"]["addresses"], json::array({"fd00:42::51"}));
  EXPECT_EQ(slicesOf("web").size(), 2u);
  // v1 Endpoints carry the primary family only.
  ASSERT_TRUE(cp_->eventually([&] { return endpointsOf("web").contains("subsets"); }));
  json addresses = endpointsOf("web")["subsets"][0]["addresses"];
  ASSERT_EQ(addresses.size(), 1u);
  EXPECT_EQ(addresses[0]["ip"], "10.42.0.51");
}

}  // namespace
}  // namespace berth::testing
