#include "dns/records.h"

#include <gtest/gtest.h>

namespace berth::dns {
namespace {

using nlohmann::json;

// One Service's records (the schema version left out).
RecordSet recordsOf(const json& service, const std::vector<json>& slices = {}) {
  std::vector<SliceInfo> infos;
  for (const auto& s : slices)
    infos.push_back(sliceInfoOf(s));
  RecordSet out;
  addServiceRecords("cluster.local", serviceInfoOf(service), infos, out);
  return out;
}

json service(const std::string& name, json spec) {
  return {{"metadata", {{"name", name}, {"namespace", "ns1"}}}, {"spec", std::move(spec)}};
}

json slice(const std::string& service, const std::string& type, json endpoints, json ports) {
  return {{"metadata",
           {{"name", service + "-abc"},
            {"namespace", "ns1"},
            {"labels", {{"kubernetes.io/service-name", service}}}}},
          {"addressType", type},
          {"endpoints", std::move(endpoints)},
          {"ports", std::move(ports)}};
}

TEST(RecordsTest, ClusterIpServiceHasAddressPtrAndSrvForNamedPortsOnly) {
  auto got = recordsOf(service("web", {{"clusterIP", "10.43.0.5"},
                                       {"clusterIPs", {"10.43.0.5"}},
                                       {"ports",
                                        {{{"name", "http"}, {"protocol", "TCP"}, {"port", 80}},
                                         {{"protocol", "UDP"}, {"port", 9000}}}}}));
  RecordSet want = {
      {"web.ns1.svc.cluster.local.", "A", "10.43.0.5"},
      {"5.0.43.10.in-addr.arpa.", "PTR", "web.ns1.svc.cluster.local."},
      {"_http._tcp.web.ns1.svc.cluster.local.", "SRV", "0 100 80 web.ns1.svc.cluster.local."},
  };
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, DualStackServiceHasAAndAaaa) {
  auto got = recordsOf(
      service("dual", {{"clusterIP", "10.43.0.6"}, {"clusterIPs", {"10.43.0.6", "fd00:43::6"}}}));
  RecordSet want = {
      {"dual.ns1.svc.cluster.local.", "A", "10.43.0.6"},
      {"dual.ns1.svc.cluster.local.", "AAAA", "fd00:43::6"},
      {"6.0.43.10.in-addr.arpa.", "PTR", "dual.ns1.svc.cluster.local."},
      {"6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.4.0.0.0.0.d.f.ip6.arpa.", "PTR",
       "dual.ns1.svc.cluster.local."},
  };
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, ExternalNameIsOneCname) {
  auto got =
      recordsOf(service("ext", {{"type", "ExternalName"}, {"externalName", "Www.Example.com"}}));
  RecordSet want = {{"ext.ns1.svc.cluster.local.", "CNAME", "www.example.com."}};
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, HeadlessServiceNamesReadyEndpointsWithHostnameOrDashedAddress) {
  json endpoints = {
      {{"addresses", {"10.42.0.7"}}, {"hostname", "db-0"}, {"conditions", {{"ready", true}}}},
      {{"addresses", {"10.42.0.8"}}},  // no conditions: ready
      {{"addresses", {"10.42.0.9"}}, {"conditions", {{"ready", false}}}},
  };
  auto got = recordsOf(
      service("db", {{"clusterIP", "None"}, {"clusterIPs", {"None"}}}),
      {slice("db", "IPv4", endpoints, {{{"name", "pg"}, {"protocol", "TCP"}, {"port", 5432}}})});
  RecordSet want = {
      {"db.ns1.svc.cluster.local.", "A", "10.42.0.7"},
      {"db.ns1.svc.cluster.local.", "A", "10.42.0.8"},
      {"db-0.db.ns1.svc.cluster.local.", "A", "10.42.0.7"},
      {"10-42-0-8.db.ns1.svc.cluster.local.", "A", "10.42.0.8"},
      {"7.0.42.10.in-addr.arpa.", "PTR", "db-0.db.ns1.svc.cluster.local."},
      {"8.0.42.10.in-addr.arpa.", "PTR", "10-42-0-8.db.ns1.svc.cluster.local."},
      {"_pg._tcp.db.ns1.svc.cluster.local.", "SRV",
       "0 50 5432 10-42-0-8.db.ns1.svc.cluster.local."},
      {"_pg._tcp.db.ns1.svc.cluster.local.", "SRV", "0 50 5432 db-0.db.ns1.svc.cluster.local."},
  };
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, HeadlessPublishNotReadyAddressesIncludesNotReadyEndpoints) {
  json endpoints = {{{"addresses", {"10.42.0.9"}}, {"conditions", {{"ready", false}}}}};
  auto got = recordsOf(service("db", {{"clusterIP", "None"}, {"publishNotReadyAddresses", true}}),
                       {slice("db", "IPv4", endpoints, json::array())});
  EXPECT_TRUE(got.contains({"db.ns1.svc.cluster.local.", "A", "10.42.0.9"}));
}

TEST(RecordsTest, HeadlessDualStackSlicesGiveAAndAaaaAndSkipFqdnSlices) {
  auto got =
      recordsOf(service("db", {{"clusterIP", "None"}}),
                {slice("db", "IPv4", {{{"addresses", {"10.42.0.7"}}}}, json::array()),
                 slice("db", "IPv6", {{{"addresses", {"fd00:42::7"}}}}, json::array()),
                 slice("db", "FQDN", {{{"addresses", {"host.example.com"}}}}, json::array())});
  RecordSet want = {
      {"db.ns1.svc.cluster.local.", "A", "10.42.0.7"},
      {"db.ns1.svc.cluster.local.", "AAAA", "fd00:42::7"},
      {"10-42-0-7.db.ns1.svc.cluster.local.", "A", "10.42.0.7"},
      {"fd00-42--7.db.ns1.svc.cluster.local.", "AAAA", "fd00:42::7"},
      {"7.0.42.10.in-addr.arpa.", "PTR", "10-42-0-7.db.ns1.svc.cluster.local."},
      {"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.4.0.0.0.0.d.f.ip6.arpa.", "PTR",
       "fd00-42--7.db.ns1.svc.cluster.local."},
  };
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, ClusterRecordsMatchSlicesToTheirServiceAndCarryTheVersion) {
  auto got = clusterRecords(
      "cluster.local", {serviceInfoOf(service("db", {{"clusterIP", "None"}}))},
      {sliceInfoOf(slice("other", "IPv4", {{{"addresses", {"10.42.0.7"}}}}, json::array()))});
  RecordSet want = {{"dns-version.cluster.local.", "TXT", "\"1.1.0\""}};
  EXPECT_EQ(got, want);
}

TEST(RecordsTest, ServiceWithoutClusterIpYetHasNoRecords) {
  EXPECT_TRUE(recordsOf(service("new", {{"ports", {{{"name", "http"}, {"port", 80}}}}})).empty());
}

TEST(RecordsTest, ReverseNames) {
  EXPECT_EQ(reverseName("10.43.0.10"), "10.0.43.10.in-addr.arpa.");
  EXPECT_EQ(reverseName("2001:db8::1"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
  EXPECT_EQ(reverseName("not-an-ip"), "");
}

}  // namespace
}  // namespace berth::dns
