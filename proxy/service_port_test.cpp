#include "proxy/service_port.h"

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

using nlohmann::json;

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

TEST(ServicePorts, ADualStackLoadBalancerGivesOnePortPerFamilyWithItsOwnAddresses) {
  json svc = json::parse(R"({
    "metadata": {"namespace": "ns1", "name": "web"},
    "spec": {"type": "LoadBalancer", "clusterIPs": ["10.96.0.10", "fd00::10"],
             "externalIPs": ["192.0.2.7", "2001:db8::7"],
             "externalTrafficPolicy": "Local", "healthCheckNodePort": 31000,
             "sessionAffinity": "ClientIP",
             "loadBalancerSourceRanges": ["198.51.100.0/24"],
             "ports": [{"name": "http", "port": 80, "nodePort": 30080},
                       {"name": "dns", "protocol": "UDP", "port": 53, "nodePort": 30053}]},
    "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"},
                                            {"ip": "203.0.113.2", "ipMode": "Proxy"}]}}
  })");
  auto ports = servicePortsOf(svc);
  ASSERT_TRUE(ports) << ports.error().message();
  ASSERT_EQ(ports->size(), 4u);
  const ServicePort& v4 = (*ports)[0];
  EXPECT_EQ(v4.name.str(), "ns1/web:http");
  EXPECT_EQ(v4.family, 4);
  EXPECT_EQ(v4.clusterIp, ip("10.96.0.10"));
  EXPECT_EQ(v4.nodePort, 30080);
  EXPECT_EQ(v4.externalIps, std::vector<IpAddr>{ip("192.0.2.7")});
  EXPECT_EQ(v4.loadBalancerIps, std::vector<IpAddr>{ip("203.0.113.1")})
      << "ipMode Proxy is not captured";
  EXPECT_EQ(v4.loadBalancerSourceRanges.size(), 1u);
  EXPECT_TRUE(v4.externalPolicyLocal);
  EXPECT_EQ(v4.healthCheckNodePort, 31000);
  EXPECT_EQ(v4.affinitySeconds, 10800u) << "kube-proxy's default timeout";
  const ServicePort& v6 = (*ports)[1];
  EXPECT_EQ(v6.family, 6);
  EXPECT_EQ(v6.externalIps, std::vector<IpAddr>{ip("2001:db8::7")});
  EXPECT_TRUE(v6.loadBalancerIps.empty());
  EXPECT_TRUE(v6.loadBalancerSourceRanges.empty());
  EXPECT_EQ((*ports)[2].name.protocol, Protocol::kUdp);
  EXPECT_EQ((*ports)[2].nodePort, 30053);
}

TEST(ServicePorts, ExternalNameAndHeadlessServicesHaveNone) {
  for (
      const char* text : {
          R"({"metadata": {"name": "a"}, "spec": {"type": "ExternalName", "externalName": "x.org"}})",
          R"({"metadata": {"name": "b"}, "spec": {"clusterIP": "None", "clusterIPs": ["None"],
               "ports": [{"port": 80}]}})",
      }) {
    auto ports = servicePortsOf(json::parse(text));
    ASSERT_TRUE(ports);
    EXPECT_TRUE(ports->empty()) << text;
  }
}

TEST(ServicePorts, ExternalTrafficPolicyLocalCountsOnlyForServicesReachableFromOutside) {
  auto ports = servicePortsOf(json::parse(R"({"metadata": {"name": "a"},
      "spec": {"clusterIP": "10.96.0.1", "externalTrafficPolicy": "Local",
               "internalTrafficPolicy": "Local", "ports": [{"port": 80, "nodePort": 30001}]}})"));
  ASSERT_TRUE(ports);
  ASSERT_EQ(ports->size(), 1u);
  EXPECT_FALSE((*ports)[0].externalPolicyLocal);
  EXPECT_TRUE((*ports)[0].internalPolicyLocal);
  EXPECT_EQ((*ports)[0].nodePort, 0) << "a ClusterIP Service has no NodePort";
}

TEST(ServicePorts, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {R"({"spec": {"clusterIP": "10.96.0.300", "ports": [{"port": 80}]}})",
       "spec.clusterIP: invalid IP address \"10.96.0.300\""},
      {R"({"spec": {"clusterIPs": ["10.96.0.1"], "ports": [{"port": 70000}]}})",
       "spec.ports[0].port: invalid port 70000"},
      {R"({"spec": {"clusterIPs": ["10.96.0.1"], "ports": [{"port": 80, "protocol": "ICMP"}]}})",
       "spec.ports[0].protocol: unsupported protocol \"ICMP\""},
      {R"({"spec": {"clusterIPs": ["10.96.0.1"], "externalIPs": ["x"], "ports": []}})",
       "spec.externalIPs[0]: invalid IP address \"x\""},
      {R"({"spec": {"clusterIPs": ["10.96.0.1"], "loadBalancerSourceRanges": ["10.0.0.0/33"]}})",
       "spec.loadBalancerSourceRanges[0]: invalid CIDR \"10.0.0.0/33\""},
  };
  for (const Case& c : cases) {
    auto ports = servicePortsOf(json::parse(c.json));
    ASSERT_FALSE(ports) << c.json;
    EXPECT_EQ(ports.error().message(), c.message);
  }
}

TEST(EndpointSlices, SlicesMergeByServicePortWithConditionDefaultsAndNoDuplicates) {
  EndpointsMap map;
  json a = json::parse(R"({
    "metadata": {"namespace": "ns1", "name": "web-abc",
                 "labels": {"kubernetes.io/service-name": "web"}},
    "addressType": "IPv4",
    "ports": [{"name": "http", "port": 8080}],
    "endpoints": [
      {"addresses": ["10.1.0.5"], "nodeName": "n1", "zone": "z1",
       "hints": {"forZones": [{"name": "z1"}]}},
      {"addresses": ["10.1.0.6"], "conditions": {"ready": false, "serving": true,
                                                 "terminating": true}},
      {"addresses": ["10.1.0.7"], "conditions": {"ready": false}}
    ]})");
  json b = a;
  b["metadata"]["name"] = "web-def";
  b["endpoints"] = json::parse(R"([{"addresses": ["10.1.0.5"]}, {"addresses": ["10.1.0.8"]}])");
  ASSERT_TRUE(addEndpointSlice(a, map));
  ASSERT_TRUE(addEndpointSlice(b, map));
  EndpointsKey key{{"ns1", "web", "http", Protocol::kTcp}, 4};
  ASSERT_EQ(map.size(), 1u);
  const auto& eps = map.at(key);
  ASSERT_EQ(eps.size(), 4u);
  EXPECT_EQ(eps[0].str(), "10.1.0.5:8080");
  EXPECT_TRUE(eps[0].ready && eps[0].serving && !eps[0].terminating);
  EXPECT_EQ(eps[0].nodeName, "n1");
  EXPECT_EQ(eps[0].zoneHints, std::vector<std::string>{"z1"});
  EXPECT_TRUE(!eps[1].ready && eps[1].serving && eps[1].terminating);
  EXPECT_TRUE(!eps[2].ready && !eps[2].serving) << "serving defaults to ready";
  EXPECT_EQ(eps[3].str(), "10.1.0.8:8080");
}

TEST(EndpointSlices, FqdnSlicesAreIgnoredAndASliceWithoutItsServiceIsAnError) {
  EndpointsMap map;
  EXPECT_TRUE(addEndpointSlice(json::parse(R"({"metadata": {"labels":
      {"kubernetes.io/service-name": "x"}}, "addressType": "FQDN",
      "ports": [{"port": 80}], "endpoints": [{"addresses": ["a.example"]}]})"),
                               map));
  EXPECT_TRUE(map.empty());
  auto st = addEndpointSlice(json::parse(R"({"metadata": {}, "addressType": "IPv4"})"), map);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "metadata.labels: no kubernetes.io/service-name");
}

}  // namespace
}  // namespace berth::proxy
