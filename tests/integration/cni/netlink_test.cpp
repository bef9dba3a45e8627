// common/netlink and common/netns against the kernel, inside namespaces the test creates.
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <gtest/gtest.h>

#include "common/netlink.h"
#include "common/netns.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

TEST(Netlink, LinksAddressesRoutesNeighboursInNetns) {
  REQUIRE_ROOT();
  TestNetns host("berth-nl-host"), pod("berth-nl-pod");
  ASSERT_TRUE(host.ok() && pod.ok());
  auto hostNs = NetNs::open(host.path());
  auto podNs = NetNs::open(pod.path());
  ASSERT_TRUE(hostNs && podNs);
  auto nl = MnlNetlink::openIn(*hostNs);
  ASSERT_TRUE(nl) << nl.error().message();
  auto& n = **nl;

  ASSERT_TRUE(n.createBridge({"br0", 1400, false}));
  auto br = *n.linkByName("br0");
  ASSERT_TRUE(br);
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_EQ(br->mtu, 1400);
  EXPECT_FALSE(n.createBridge({"br0", 0, false}));  // exists

  auto mac = *parseMac("0a:58:0a:01:00:02");
  ASSERT_TRUE(n.createVeth({"veth0", "eth0", 1400, mac, podNs->fd()}));
  auto veth = *n.linkByName("veth0");
  ASSERT_TRUE(veth);
  EXPECT_EQ(veth->kind, "veth");
  ASSERT_TRUE(n.setMaster(veth->index, br->index));
  ASSERT_TRUE(n.setHairpin(veth->index, true));
  ASSERT_TRUE(n.setUp(veth->index, true));
  ASSERT_TRUE(n.setUp(br->index, true));
  ASSERT_TRUE(n.setPromisc(br->index, true));
  ASSERT_TRUE(n.setMac(br->index, *parseMac("0a:58:0a:01:00:01")));
  veth = *n.linkByIndex(veth->index);
  EXPECT_EQ(veth->master, br->index);
  br = *n.linkByName("br0");
  EXPECT_TRUE(br->flags & IFF_PROMISC);
  EXPECT_EQ(formatMac(br->mac), "0a:58:0a:01:00:01");
  auto [code, out] = host.exec({"cat", "/sys/class/net/veth0/brport/hairpin_mode"});
  EXPECT_EQ(out, "1\n");

  ASSERT_TRUE(n.addAddress(br->index, *IpNet::parse("10.77.0.1/24")));
  ASSERT_TRUE(n.addAddress(br->index, *IpNet::parse("10.77.0.1/24")));  // idempotent
  ASSERT_TRUE(n.addAddress(br->index, *IpNet::parse("fd77::1/64")));
  auto addrs = *n.addresses(br->index, 4);
  ASSERT_EQ(addrs.size(), 1u);
  EXPECT_EQ(addrs[0].str(), "10.77.0.1/24");

  RouteSpec rt{*IpNet::parse("10.88.0.0/16"), IpAddr::parse("10.77.0.9"), br->index};
  ASSERT_TRUE(n.addRoute(rt));
  std::tie(code, out) = host.exec({"ip", "route", "show", "10.88.0.0/16"});
  EXPECT_NE(out.find("via 10.77.0.9 dev br0"), std::string::npos) << out;
  ASSERT_TRUE(n.deleteRoute(rt));
  ASSERT_TRUE(n.deleteRoute(rt));  // absent is success

  NeighSpec neigh{br->index, IpAddr::parse("10.77.0.50"), *parseMac("0a:00:00:00:00:50"), false};
  ASSERT_TRUE(n.addNeigh(neigh));
  std::tie(code, out) = host.exec({"ip", "neigh", "show", "10.77.0.50"});
  EXPECT_NE(out.find("0a:00:00:00:00:50 PERMANENT"), std::string::npos) << out;
  ASSERT_TRUE(n.deleteNeigh(neigh));
  ASSERT_TRUE(n.deleteNeigh(neigh));

  // The peer is in the pod's namespace, usable there through a socket opened inside.
  auto podNl = MnlNetlink::openIn(*podNs);
  ASSERT_TRUE(podNl);
  auto eth0 = *(*podNl)->linkByName("eth0");
  ASSERT_TRUE(eth0);
  EXPECT_EQ(formatMac(eth0->mac), "0a:58:0a:01:00:02");
  EXPECT_EQ(eth0->mtu, 1400);
  ASSERT_TRUE((*podNl)->setUp(eth0->index, true));

  ASSERT_TRUE(n.deleteLink(veth->index));
  ASSERT_TRUE(n.deleteLink(veth->index));       // absent is success
  EXPECT_FALSE(*(*podNl)->linkByName("eth0"));  // the pair went with it
}

TEST(Netlink, NetNsGuardComesBack) {
  REQUIRE_ROOT();
  TestNetns ns("berth-nl-guard");
  auto before = readSysctl("net.ipv4.ip_forward");
  auto target = NetNs::open(ns.path());
  ASSERT_TRUE(target);
  struct stat origin {};
  ASSERT_EQ(::stat("/proc/thread-self/ns/net", &origin), 0);
  {
    auto guard = NetNsGuard::enter(*target);
    ASSERT_TRUE(guard);
    ASSERT_TRUE(writeSysctl("net.ipv4.ip_forward", "1"));
    EXPECT_EQ(*readSysctl("net.ipv4.ip_forward"), "1");
  }
  struct stat after {};
  ASSERT_EQ(::stat("/proc/thread-self/ns/net", &after), 0);
  EXPECT_EQ(origin.st_ino, after.st_ino);
  EXPECT_EQ(*readSysctl("net.ipv4.ip_forward"), *before);  // the host's value untouched
  auto [code, out] = ns.exec({"cat", "/proc/sys/net/ipv4/ip_forward"});
  EXPECT_EQ(out, "1\n");
  EXPECT_FALSE(NetNs::open("/etc/hostname"));
}

}  // namespace
}  // namespace berth::testing
