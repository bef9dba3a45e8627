// Two "nodes" (network namespaces joined by a veth underlay), each with its bridge and VXLAN
// device, one pod each: the pods reach each other across the overlay; changing the peers file and
// syncing removes and re-adds the peer without touching the pods.
#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

const std::string kVxlan = std::string(BERTH_CNI_BIN_DIR) + "/vxlan";

class VxlanPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    for (auto* n : {&node1_, &node2_, &pod1_, &pod2_}) {
      static int i = 0;
      *n = std::make_unique<TestNetns>(fmt::format("berth-vx{}", i++));
      ASSERT_TRUE((*n)->ok());
    }
    // The underlay: a veth between the two node namespaces.
    auto [code, out] = sh(fmt::format(
        "ip link add vxu1-{0} netns {1} type veth peer name vxu2-{0} netns {2} && "
        "ip -n {1} addr add 192.168.77.1/24 dev vxu1-{0} && ip -n {1} link set vxu1-{0} up && "
        "ip -n {2} addr add 192.168.77.2/24 dev vxu2-{0} && ip -n {2} link set vxu2-{0} up",
        ::getpid() % 100000, node1_->name(), node2_->name()));
    ASSERT_EQ(code, 0) << out;
    dir_ = fmt::format("/tmp/berth-cni-vxlan-{}", ::getpid());
    (void)removeAll(dir_);
    ASSERT_TRUE(makeDirs(dir_));
    writePeers(R"([{"name": "n1", "nodeIP": "192.168.77.1", "podSubnet": "10.244.1.0/24"},
                   {"name": "n2", "nodeIP": "192.168.77.2", "podSubnet": "10.244.2.0/24"}])");
  }
  void TearDown() override {
    pod1_.reset();
    pod2_.reset();
    node1_.reset();
    node2_.reset();
    if (!dir_.empty()) (void)removeAll(dir_);
  }
  void writePeers(std::string_view json) {
    ASSERT_TRUE(writeFileAtomic(dir_ + "/peers.json", json));
  }
  std::string conf(int node) const {
    return fmt::format(R"({{"cniVersion": "1.1.0", "name": "overlay", "type": "vxlan",
        "bridge": "cni-vx0", "vni": 42, "device": "vx-test",
        "localIP": "192.168.77.{0}", "nodeSubnet": "10.244.{0}.0/24",
        "peersFile": "{1}/peers.json",
        "ipam": {{"type": "host-local", "dataDir": "{1}/ipam{0}", "subnet": "10.244.{0}.0/24"}}}})",
                       node, dir_);
  }
  int ping(const TestNetns& from, const std::string& ip) {
    return from.exec({"busybox", "ping", "-c", "1", "-W", "2", ip}).first;
  }

  std::unique_ptr<TestNetns> node1_, node2_, pod1_, pod2_;
  std::string dir_;
};

TEST_F(VxlanPlugin, PodsOnTwoNodesReachEachOtherAndPeersSyncFromTheFile) {
  auto a1 = runPlugin(kVxlan, "ADD", "p1", pod1_->path(), "eth0", conf(1), {}, node1_->name());
  ASSERT_EQ(a1.exitCode, 0) << a1.out;
  auto a2 = runPlugin(kVxlan, "ADD", "p2", pod2_->path(), "eth0", conf(2), {}, node2_->name());
  ASSERT_EQ(a2.exitCode, 0) << a2.out;
  EXPECT_EQ(a1.json()["ips"][0]["address"], "10.244.1.2/24");
  EXPECT_EQ(a2.json()["ips"][0]["address"], "10.244.2.2/24");

  auto routes = node1_->exec({"ip", "route", "show", "10.244.2.0/24"}).second;
  EXPECT_NE(routes.find("via 10.244.2.0 dev vx-test onlink"), std::string::npos) << routes;
  auto fdb = node1_->exec({"bridge", "fdb", "show", "dev", "vx-test"}).second;
  EXPECT_NE(fdb.find("0e:58:0a:f4:02:00 dst 192.168.77.2"), std::string::npos) << fdb;
  auto neigh = node1_->exec({"ip", "neigh", "show", "dev", "vx-test"}).second;
  EXPECT_NE(neigh.find("10.244.2.0 lladdr 0e:58:0a:f4:02:00 PERMANENT"), std::string::npos)
      << neigh;
  EXPECT_EQ(ping(*pod1_, "10.244.2.2"), 0);
  EXPECT_EQ(ping(*pod2_, "10.244.1.2"), 0);
  // Pods get the overlay's MTU.
  auto vxMtu = node1_->exec({"cat", "/sys/class/net/vx-test/mtu"}).second;
  EXPECT_EQ(pod1_->exec({"cat", "/sys/class/net/eth0/mtu"}).second, vxMtu);
  EXPECT_NE(vxMtu, "1500\n");

  // node2 leaves the file: node1 drops its route, neighbour and FDB entry; pods stay.
  writePeers(R"([{"name": "n1", "nodeIP": "192.168.77.1", "podSubnet": "10.244.1.0/24"}])");
  ASSERT_TRUE(writeFile(dir_ + "/conf1.json", conf(1)));
  auto sync = node1_->exec({kVxlan, "sync-peers", dir_ + "/conf1.json"});
  ASSERT_EQ(sync.first, 0) << sync.second;
  EXPECT_EQ(node1_->exec({"ip", "route", "show", "10.244.2.0/24"}).second, "");
  EXPECT_EQ(node1_->exec({"bridge", "fdb", "show", "dev", "vx-test"}).second.find("0e:58:0a:f4"),
            std::string::npos);
  EXPECT_NE(ping(*pod1_, "10.244.2.2"), 0);
  EXPECT_NE(pod1_->exec({"ip", "addr", "show", "eth0"}).second.find("10.244.1.2/24"),
            std::string::npos);

  // And back.
  writePeers(R"([{"name": "n2", "nodeIP": "192.168.77.2", "podSubnet": "10.244.2.0/24"}])");
  sync = node1_->exec({kVxlan, "sync-peers", dir_ + "/conf1.json"});
  ASSERT_EQ(sync.first, 0) << sync.second;
  EXPECT_EQ(ping(*pod1_, "10.244.2.2"), 0);

  // CHECK and DEL of a pod leave the overlay to the others.
  auto withPrev = nlohmann::json::parse(conf(1));
  withPrev["prevResult"] = a1.json();
  auto check =
      runPlugin(kVxlan, "CHECK", "p1", pod1_->path(), "eth0", withPrev.dump(), {}, node1_->name());
  EXPECT_EQ(check.exitCode, 0) << check.out;
  auto del =
      runPlugin(kVxlan, "DEL", "p1", pod1_->path(), "eth0", withPrev.dump(), {}, node1_->name());
  ASSERT_EQ(del.exitCode, 0) << del.out;
  EXPECT_EQ(pod1_->exec({"ip", "link", "show", "eth0"}).first, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/ipam1/overlay/10.244.1.2"));
  EXPECT_NE(node1_->exec({"ip", "route", "show", "10.244.2.0/24"}).second, "");

  // A bad peers file is an error naming the file and entry.
  writePeers(R"([{"nodeIP": "x", "podSubnet": "10.244.2.0/24"}])");
  sync = node1_->exec({kVxlan, "sync-peers", dir_ + "/conf1.json"});
  EXPECT_EQ(sync.first, 1);
  EXPECT_NE(sync.second.find("peers.json: [0].nodeIP"), std::string::npos) << sync.second;
}

}  // namespace
}  // namespace berth::testing
