// endpointSubsets and truncateEndpoints on tables of pods.
#include "controlplane/controllers/endpoints_controller.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace endpoints_controller_test {

using nlohmann::json;

json service(json spec) {
  json svc = {{"metadata", {{"name", "web"}, {"namespace", "ns"}}},
              {"spec", {{"clusterIP", "10.43.0.10"}, {"ipFamilies", {"IPv4"}}}}};
  if (spec.is_object()) svc["spec"].update(spec);
  return svc;
}

kubeapi::ObjectPtr pod(const std::string& name, const std::string& ip, bool ready,
                       json ports = json::array()) {
  json p = {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", name}}},
            {"spec", {{"containers", {{{"name", "c"}, {"ports", ports}}}}}},
            {"status",
             {{"phase", "Running"},
              {"podIP", ip},
              {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  return std::make_shared<const json>(std::move(p));
}

std::vector<std::string> ips(const json& addresses) {
  std::vector<std::string> out;
  for (const json& a : addresses)
    out.push_back(a["ip"]);
  return out;
}

TEST(EndpointSubsetsTest, ReadyAndNotReadyAddressesShareASubsetPerPortSet) {
  json svc = service({{"ports",
                       {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}},
                        {{"name", "metrics"}, {"port", 9090}, {"targetPort", 9090}}}}});
  json http = {{{"name", "http"}, {"containerPort", 8080}}};
  auto subsets =
      endpointSubsets(svc, {pod("b", "10.0.0.2", false, http), pod("a", "10.0.0.1", true, http),
                            pod("c", "10.0.0.3", true)});  // c has no "http": only the metrics port
  ASSERT_EQ(subsets.size(), 2u) << subsets.dump(2);
  // Subsets by their ports; addresses by IP.
  json both = subsets[0]["ports"].size() == 2 ? subsets[0] : subsets[1];
  json metricsOnly = subsets[0]["ports"].size() == 2 ? subsets[1] : subsets[0];
  EXPECT_EQ(ips(both["addresses"]), std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(ips(both["notReadyAddresses"]), std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(ips(metricsOnly["addresses"]), std::vector<std::string>{"10.0.0.3"});
  EXPECT_EQ(metricsOnly["ports"],
            json::parse(R"([{"name":"metrics","port":9090,"protocol":"TCP"}])"));
}

TEST(EndpointSubsetsTest, TerminatingPodsOnlyWithPublishNotReadyAddresses) {
  json p = *pod("a", "10.0.0.1", true);
  p["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  auto terminating = std::make_shared<const json>(p);
  json ports = {{"ports", {{{"port", 80}}}}};
  EXPECT_TRUE(endpointSubsets(service(ports), {terminating}).empty());
  json published = ports;
  published["publishNotReadyAddresses"] = true;
  auto subsets = endpointSubsets(service(published), {terminating});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_EQ(ips(subsets[0]["addresses"]), std::vector<std::string>{"10.0.0.1"});
}

TEST(EndpointSubsetsTest, HeadlessServiceWithoutPortsListsItsPods) {
  auto subsets = endpointSubsets(service({{"clusterIP", "None"}}), {pod("a", "10.0.0.1", true)});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_FALSE(subsets[0].contains("ports"));
  EXPECT_TRUE(endpointSubsets(service({}), {pod("a", "10.0.0.1", true)}).empty());
}

TEST(EndpointSubsetsTest, TruncatedToOneThousandReadyFirst) {
  json addresses = json::array();
  for (int i = 0; i < 900; ++i)
    addresses.push_back({{"ip", "10.0.0.1"}});
  json subsets = {{{"addresses", addresses}, {"notReadyAddresses", addresses}}};
  ASSERT_TRUE(truncateEndpoints(subsets));
  EXPECT_EQ(subsets[0]["addresses"].size(), 900u);
  EXPECT_EQ(subsets[0]["notReadyAddresses"].size(), 100u);
  json small = {{{"addresses", json::array({{{"ip", "10.0.0.1"}}})}}};
  EXPECT_FALSE(truncateEndpoints(small));
}

}  // namespace endpoints_controller_test
}  // namespace berth::controlplane::controllers
