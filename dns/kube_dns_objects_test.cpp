#include "dns/kube_dns_objects.h"

#include <gtest/gtest.h>

#include "dns/records.h"

namespace berth::dns {
namespace {

TEST(KubeDnsObjectsTest, ServiceOnTheClusterIpTargetsThePortOfTheSlice) {
  auto service = kubeDnsService({"10.43.0.10"}, 1053);
  EXPECT_EQ(service["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(service["metadata"]["name"], "kube-dns");
  EXPECT_EQ(service["spec"]["clusterIP"], "10.43.0.10");
  EXPECT_EQ(service["spec"]["ipFamilyPolicy"], "SingleStack");
  EXPECT_FALSE(service["spec"].contains("selector"));
  auto slice = kubeDnsEndpointSlice("node-1", "IPv4", "192.0.2.10", 1053);
  EXPECT_EQ(slice["metadata"]["name"], "kube-dns-node-1-ipv4");
  EXPECT_EQ(slice["endpoints"][0]["addresses"][0], "192.0.2.10");
  for (int i : {0, 1}) {
    EXPECT_EQ(service["spec"]["ports"][i]["port"], 53);
    EXPECT_EQ(service["spec"]["ports"][i]["targetPort"], 1053);
    EXPECT_EQ(slice["ports"][i]["port"], 1053);
    EXPECT_EQ(slice["ports"][i]["name"], service["spec"]["ports"][i]["name"]);
    EXPECT_EQ(slice["ports"][i]["protocol"], service["spec"]["ports"][i]["protocol"]);
  }
  // Cluster DNS answers its own name.
  RecordSet records =
      clusterRecords("cluster.local", {serviceInfoOf(service)}, {sliceInfoOf(slice)});
  EXPECT_TRUE(records.contains({"kube-dns.kube-system.svc.cluster.local.", "A", "10.43.0.10"}));
  EXPECT_TRUE(records.contains({"_dns._udp.kube-dns.kube-system.svc.cluster.local.", "SRV",
                                "0 100 53 kube-dns.kube-system.svc.cluster.local."}));
}

TEST(KubeDnsObjectsTest, DualStackService) {
  auto service = kubeDnsService({"10.43.0.10", "fd00:43::a"}, 53);
  EXPECT_EQ(service["spec"]["ipFamilyPolicy"], "RequireDualStack");
  EXPECT_EQ(service["spec"]["clusterIPs"].size(), 2u);
}

}  // namespace
}  // namespace berth::dns
