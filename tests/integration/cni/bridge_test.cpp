// The bridge plugin (with our host-local) in namespaces the test creates: a "host" namespace the
// plugin runs in, and pod namespaces.
#include <filesystem>
#include <regex>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBridge = std::string(BERTH_CNI_BIN_DIR) + "/bridge";

class BridgePlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    host_ = std::make_unique<TestNetns>("berth-brh");
    pod1_ = std::make_unique<TestNetns>("berth-brp1");
    pod2_ = std::make_unique<TestNetns>("berth-brp2");
    ASSERT_TRUE(host_->ok() && pod1_->ok() && pod2_->ok());
    dataDir_ = fmt::format("/tmp/berth-cni-bridge-{}", ::getpid());
    (void)removeAll(dataDir_);
  }
  void TearDown() override {
    pod1_.reset();
    pod2_.reset();
    host_.reset();
    if (!dataDir_.empty()) (void)removeAll(dataDir_);
  }
  std::string conf(std::string_view extra = "", std::string_view ipamExtra = "") const {
    return fmt::format(R"({{"cniVersion": "1.1.0", "name": "podnet", "type": "bridge",
        "bridge": "cni-test0", "isDefaultGateway": true, "ipMasq": true, "mtu": 1400 {}
        , "ipam": {{"type": "host-local", "dataDir": "{}", "subnet": "10.99.0.0/24",
                    "routes": [{{"dst": "0.0.0.0/0"}}] {}}}}})",
                       extra, dataDir_, ipamExtra);
  }
  PluginRun run(const std::string& cmd, const TestNetns& pod, const std::string& id,
                const std::string& c) {
    return runPlugin(kBridge, cmd, id, pod.path(), "eth0", c, {}, host_->name());
  }
  std::string hostExec(const std::vector<std::string>& argv) { return host_->exec(argv).second; }

  std::unique_ptr<TestNetns> host_, pod1_, pod2_;
  std::string dataDir_;
};

TEST_F(BridgePlugin, TwoPodsReachEachOtherAndTheGatewayAndDelCleansUp) {
  auto c = conf();
  auto a1 = run("ADD", *pod1_, "pod1", c);
  ASSERT_EQ(a1.exitCode, 0) << a1.out;
  auto a2 = run("ADD", *pod2_, "pod2", c);
  ASSERT_EQ(a2.exitCode, 0) << a2.out;
  auto r1 = a1.json();
  EXPECT_EQ(r1["cniVersion"], "1.1.0");
  ASSERT_EQ(r1["interfaces"].size(), 3u);
  EXPECT_EQ(r1["interfaces"][0]["name"], "cni-test0");
  EXPECT_EQ(r1["interfaces"][2]["sandbox"], pod1_->path());
  EXPECT_EQ(r1["ips"][0]["address"], "10.99.0.2/24");
  EXPECT_EQ(r1["ips"][0]["gateway"], "10.99.0.1");
  EXPECT_EQ(r1["ips"][0]["interface"], 2);
  EXPECT_EQ(a2.json()["ips"][0]["address"], "10.99.0.3/24");

  // Pod to pod, pod to gateway.
  auto [code, out] = pod1_->exec({"busybox", "ping", "-c", "1", "-W", "2", "10.99.0.3"});
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = pod2_->exec({"busybox", "ping", "-c", "1", "-W", "2", "10.99.0.1"});
  EXPECT_EQ(code, 0) << out;
  std::tie(code, out) = pod1_->exec({"ip", "route", "show", "default"});
  EXPECT_NE(out.find("via 10.99.0.1 dev eth0"), std::string::npos) << out;
  std::tie(code, out) = pod1_->exec({"cat", "/sys/class/net/eth0/mtu"});
  EXPECT_EQ(out, "1400\n");
  EXPECT_NE(hostExec({"ip", "addr", "show", "cni-test0"}).find("10.99.0.1/24"), std::string::npos);
  EXPECT_EQ(hostExec({"cat", "/proc/sys/net/ipv4/ip_forward"}), "1\n");
  auto masq = hostExec({"nft", "list", "set", "inet", "berth-cni", "masq-nets4"});
  EXPECT_NE(masq.find("10.99.0.0/24"), std::string::npos) << masq;

  // CHECK with the result as prevResult.
  auto withPrev = [&](const nlohmann::json& prev) {
    auto j = nlohmann::json::parse(c);
    j["prevResult"] = prev;
    return j.dump();
  };
  auto check = run("CHECK", *pod1_, "pod1", withPrev(r1));
  EXPECT_EQ(check.exitCode, 0) << check.out;

  // DEL: veth, address file and nft element are gone; a second DEL succeeds.
  auto d1 = run("DEL", *pod1_, "pod1", withPrev(r1));
  ASSERT_EQ(d1.exitCode, 0) << d1.out;
  auto hostVeth = r1["interfaces"][1]["name"].get<std::string>();
  EXPECT_NE(hostExec({"ip", "link", "show", hostVeth}).find("does not exist"), std::string::npos);
  std::tie(code, out) = pod1_->exec({"ip", "link", "show", "eth0"});
  EXPECT_NE(code, 0);
  EXPECT_FALSE(fs::exists(dataDir_ + "/podnet/10.99.0.2"));
  EXPECT_TRUE(fs::exists(dataDir_ + "/podnet/10.99.0.3"));
  // Nothing per pod in nftables (masquerade is per subnet, and pod2 still uses it).
  EXPECT_EQ(hostExec({"nft", "list", "ruleset"}).find("10.99.0.2"), std::string::npos);
  masq = hostExec({"nft", "list", "set", "inet", "berth-cni", "masq-nets4"});
  EXPECT_NE(masq.find("10.99.0.0/24"), std::string::npos) << masq;
  EXPECT_EQ(run("DEL", *pod1_, "pod1", withPrev(r1)).exitCode, 0);
  // The subnet leaves the masquerade set with its last pod; a second DEL still succeeds.
  auto d2 = run("DEL", *pod2_, "pod2", withPrev(a2.json()));
  ASSERT_EQ(d2.exitCode, 0) << d2.out;
  masq = hostExec({"nft", "list", "set", "inet", "berth-cni", "masq-nets4"});
  EXPECT_EQ(masq.find("10.99.0.0/24"), std::string::npos) << masq;
  EXPECT_EQ(run("DEL", *pod2_, "pod2", withPrev(a2.json())).exitCode, 0);
  // DEL without the namespace at all.
  auto gone =
      runPlugin(kBridge, "DEL", "pod1", "/run/netns/berth-none", "eth0", c, {}, host_->name());
  EXPECT_EQ(gone.exitCode, 0) << gone.out;
  check = run("CHECK", *pod1_, "pod1", withPrev(r1));
  EXPECT_EQ(check.exitCode, 1);
}

// An "outside" namespace behind the host with no route back to the pod subnet: a pod reaches it
// only when masqueraded.
TEST_F(BridgePlugin, IpMasqMakesTheOutsideReachableAndMacSpoofCheckDropsForgedFrames) {
  TestNetns outside("berth-brout");
  ASSERT_TRUE(outside.ok());
  auto [code, out] = sh(fmt::format(
      "ip link add bro-{0} netns {1} type veth peer name bri-{0} netns {2} && "
      "ip -n {1} addr add 192.168.88.1/24 dev bro-{0} && ip -n {1} link set bro-{0} up && "
      "ip -n {2} addr add 192.168.88.2/24 dev bri-{0} && ip -n {2} link set bri-{0} up",
      ::getpid() % 100000, host_->name(), outside.name()));
  ASSERT_EQ(code, 0) << out;
  auto a = run("ADD", *pod1_, "pod1", conf(R"(, "macspoofchk": true)"));
  ASSERT_EQ(a.exitCode, 0) << a.out;
  EXPECT_EQ(pod1_->exec({"busybox", "ping", "-c", "1", "-W", "2", "192.168.88.2"}).first, 0);
  auto plain = conf(R"(, "ipMasq": false, "bridge": "cni-test1")");
  auto b =
      run("ADD", *pod2_, "pod2", std::regex_replace(plain, std::regex("10\\.99\\.0"), "10.99.1"));
  ASSERT_EQ(b.exitCode, 0) << b.out;
  EXPECT_NE(pod2_->exec({"busybox", "ping", "-c", "1", "-W", "1", "192.168.88.2"}).first, 0);

  // macspoofchk: with a forged source MAC, pod1's frames are dropped at its bridge port.
  auto hostVeth = a.json()["interfaces"][1]["name"].get<std::string>();
  auto sets = hostExec({"nft", "list", "table", "bridge", "berth-cni-bridge"});
  EXPECT_NE(sets.find(hostVeth), std::string::npos) << sets;
  EXPECT_EQ(pod1_->exec({"busybox", "ping", "-c", "1", "-W", "2", "10.99.0.1"}).first, 0);
  ASSERT_EQ(pod1_->exec({"ip", "link", "set", "eth0", "address", "0a:00:00:00:66:66"}).first, 0);
  EXPECT_NE(pod1_->exec({"busybox", "ping", "-c", "1", "-W", "1", "10.99.0.1"}).first, 0);
  auto withPrev = nlohmann::json::parse(conf(R"(, "macspoofchk": true)"));
  withPrev["prevResult"] = a.json();
  // DEL removes the elements by what ADD reported, whatever the pod did to its MAC since.
  ASSERT_EQ(run("DEL", *pod1_, "pod1", withPrev.dump()).exitCode, 0);
  sets = hostExec({"nft", "list", "table", "bridge", "berth-cni-bridge"});
  EXPECT_EQ(sets.find(hostVeth), std::string::npos) << sets;

  // Without prevResult, DEL finds the elements by their owner; GC drops those of attachments
  // that are not valid any more.
  auto spoofConf = conf(R"(, "macspoofchk": true)");
  auto again = run("ADD", *pod1_, "pod1", spoofConf);
  ASSERT_EQ(again.exitCode, 0) << again.out;
  ASSERT_EQ(run("DEL", *pod1_, "pod1", spoofConf).exitCode, 0);
  sets = hostExec({"nft", "list", "table", "bridge", "berth-cni-bridge"});
  EXPECT_EQ(sets.find("pod1/eth0"), std::string::npos) << sets;
  ASSERT_EQ(run("ADD", *pod1_, "pod1", spoofConf).exitCode, 0);
  auto gcConf = nlohmann::json::parse(spoofConf);
  gcConf["cni.dev/valid-attachments"] = nlohmann::json::array();
  auto gc = runPlugin(kBridge, "GC", "", "", "", gcConf.dump(), {}, host_->name());
  ASSERT_EQ(gc.exitCode, 0) << gc.out;
  sets = hostExec({"nft", "list", "table", "bridge", "berth-cni-bridge"});
  EXPECT_EQ(sets.find("pod1/eth0"), std::string::npos) << sets;
  // host-local's GC ran too: no attachment of the network is valid, no address file is left.
  EXPECT_EQ(sh("ls " + dataDir_ + "/podnet").second, "last_reserved_ip.0\nlock\n");
}

TEST_F(BridgePlugin, BadConfigIsAnErrorNamingTheFieldAndCreatesNothing) {
  struct Case {
    std::string extra;
    std::string msg;
  };
  for (const auto& c : std::vector<Case>{
           {R"(, "vlan": 5000)", "vlan: invalid VLAN ID 5000"},
           {R"(, "hairpinMode": true, "promiscMode": true)", "hairpinMode, promiscMode"},
           {R"(, "mtu": "big")", "mtu: must be"},
           {R"(, "bridge": "this-name-is-far-too-long")", "bridge: invalid interface name"},
           {R"(, "runtimeConfig": {"mac": "zz"})", "runtimeConfig.mac"},
       }) {
    auto r = run("ADD", *pod1_, "pod1", conf(c.extra));
    EXPECT_EQ(r.exitCode, 1) << c.extra;
    auto j = r.json();
    EXPECT_EQ(j["code"], 7) << r.out;
    EXPECT_NE(j["msg"].get<std::string>().find(c.msg), std::string::npos) << r.out;
  }
  EXPECT_EQ(hostExec({"ip", "-o", "link", "show", "type", "veth"}), "");
  EXPECT_EQ(pod1_->exec({"ip", "-o", "link", "show", "type", "veth"}).second, "");
}

TEST_F(BridgePlugin, IpamFailureRollsBackTheVeth) {
  // A range of one address: the second pod can't get one.
  auto c = conf("", R"(, "rangeStart": "10.99.0.2", "rangeEnd": "10.99.0.2")");
  ASSERT_EQ(run("ADD", *pod1_, "pod1", c).exitCode, 0);
  auto r = run("ADD", *pod2_, "pod2", c);
  ASSERT_EQ(r.exitCode, 1);
  EXPECT_NE(r.json()["msg"].get<std::string>().find("no IP addresses available"), std::string::npos)
      << r.out;
  EXPECT_EQ(pod2_->exec({"ip", "-o", "link", "show", "eth0"}).first, 1);
  auto veths = hostExec({"ip", "-o", "link", "show", "type", "veth"});
  EXPECT_EQ(std::count(veths.begin(), veths.end(), '\n'), 1) << veths;
}

TEST_F(BridgePlugin, HairpinAndMacFromRuntimeConfig) {
  auto c = conf(R"(, "hairpinMode": true, "runtimeConfig": {"mac": "0a:58:0a:63:00:99"})");
  auto a = run("ADD", *pod1_, "pod1", c);
  ASSERT_EQ(a.exitCode, 0) << a.out;
  auto hostVeth = a.json()["interfaces"][1]["name"].get<std::string>();
  EXPECT_EQ(a.json()["interfaces"][2]["mac"], "0a:58:0a:63:00:99");
  EXPECT_EQ(hostExec({"cat", "/sys/class/net/" + hostVeth + "/brport/hairpin_mode"}), "1\n");
  auto [code, out] = pod1_->exec({"cat", "/sys/class/net/eth0/address"});
  EXPECT_EQ(out, "0a:58:0a:63:00:99\n");
}

TEST_F(BridgePlugin, PromiscMode) {
  auto a = run("ADD", *pod1_, "pod1", conf(R"(, "promiscMode": true)"));
  ASSERT_EQ(a.exitCode, 0) << a.out;
  auto flags = hostExec({"cat", "/sys/class/net/cni-test0/flags"});
  EXPECT_TRUE(std::stoul(flags, nullptr, 16) & 0x100) << flags;  // IFF_PROMISC
}

TEST_F(BridgePlugin, Vlan) {
  if (hostExec({"sh", "-c", "ip link add brvlan type bridge vlan_filtering 1 && echo ok"}) !=
      "ok\n") {
    GTEST_SKIP() << "this kernel has no bridge VLAN filtering";
  }
  auto a = run("ADD", *pod1_, "pod1", conf(R"(, "vlan": 100)"));
  ASSERT_EQ(a.exitCode, 0) << a.out;
  auto hostVeth = a.json()["interfaces"][1]["name"].get<std::string>();
  EXPECT_EQ(hostExec({"cat", "/sys/class/net/cni-test0/bridge/vlan_filtering"}), "1\n");
  auto vlans = hostExec({"bridge", "vlan", "show", "dev", hostVeth});
  EXPECT_NE(vlans.find("100 PVID"), std::string::npos) << vlans;
}

}  // namespace
}  // namespace berth::testing
