// portmap chained after our bridge: a hostPort reached from the "host" namespace's loopback and
// from another pod, hostIP-bound mappings, and a DEL that leaves no element behind. Servers run
// only inside pod namespaces the test created.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/child_process.h"
#include "common/file_util.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

const std::string kBin = BERTH_CNI_BIN_DIR;

class PortmapPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    host_ = std::make_unique<TestNetns>("berth-pmh");
    pod1_ = std::make_unique<TestNetns>("berth-pmp1");
    pod2_ = std::make_unique<TestNetns>("berth-pmp2");
    ASSERT_TRUE(host_->ok() && pod1_->ok() && pod2_->ok());
    ASSERT_EQ(host_->exec({"ip", "link", "set", "lo", "up"}).first, 0);
    dataDir_ = fmt::format("/tmp/berth-cni-portmap-{}", ::getpid());
    (void)removeAll(dataDir_);
  }
  void TearDown() override {
    server_.killAndReap();
    pod1_.reset();
    pod2_.reset();
    host_.reset();
    if (!dataDir_.empty()) (void)removeAll(dataDir_);
  }
  std::string bridgeConf() const {
    return fmt::format(R"({{"cniVersion": "1.1.0", "name": "pmnet", "type": "bridge",
        "bridge": "cni-pm0", "isDefaultGateway": true, "hairpinMode": true,
        "ipam": {{"type": "host-local", "dataDir": "{}", "subnet": "10.98.0.0/24"}}}})",
                       dataDir_);
  }
  std::string portmapConf(const nlohmann::json& prev) const {
    nlohmann::json j = {{"cniVersion", "1.1.0"},
                        {"name", "pmnet"},
                        {"type", "portmap"},
                        {"capabilities", {{"portMappings", true}}},
                        {"prevResult", prev}};
    j["runtimeConfig"]["portMappings"] = nlohmann::json::array(
        {{{"hostPort", 8080}, {"containerPort", 80}, {"protocol", "tcp"}},
         {{"hostPort", 9090}, {"containerPort", 80}, {"protocol", "tcp"}, {"hostIP", "127.0.0.1"}},
         {{"hostPort", 5353}, {"containerPort", 53}, {"protocol", "udp"}},
         {{"hostPort", 7070}, {"containerPort", 70}, {"protocol", "sctp"}}});
    return j.dump();
  }
  PluginRun run(const std::string& plugin, const std::string& cmd, const TestNetns& pod,
                const std::string& id, const std::string& conf) {
    return runPlugin(kBin + "/" + plugin, cmd, id, pod.path(), "eth0", conf, {}, host_->name());
  }
  // A server in pod1 answering "pod1" on port 80, listening once this returns.
  void startServer() {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execlp("ip", "ip", "netns", "exec", pod1_->name().c_str(), "busybox", "nc", "-ll", "-p",
               "80", "-e", "echo", "pod1", nullptr);
      ::_exit(127);
    }
    server_ = ChildProcess(pid);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      // busybox listens dual-stack: the socket shows in tcp6.
      auto tcp = pod1_->exec({"cat", "/proc/net/tcp", "/proc/net/tcp6"}).second;
      std::istringstream lines(tcp);
      for (std::string line; std::getline(lines, line);) {
        if (line.find(":0050 ") != std::string::npos && line.find(" 0A ") != std::string::npos) {
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "server did not listen";
  }
  std::string connect(const TestNetns& from, const std::string& ip, int port) {
    return from.exec({"timeout", "5", "busybox", "nc", "-w", "2", ip, std::to_string(port)}).second;
  }

  std::unique_ptr<TestNetns> host_, pod1_, pod2_;
  std::string dataDir_;
  ChildProcess server_;
};

TEST_F(PortmapPlugin, HostPortFromLoopbackAndFromAnotherPodAndDelRemovesIt) {
  auto b1 = run("bridge", "ADD", *pod1_, "pm1", bridgeConf());
  ASSERT_EQ(b1.exitCode, 0) << b1.out;
  auto b2 = run("bridge", "ADD", *pod2_, "pm2", bridgeConf());
  ASSERT_EQ(b2.exitCode, 0) << b2.out;
  auto pmConf = portmapConf(b1.json());
  auto pm = run("portmap", "ADD", *pod1_, "pm1", pmConf);
  ASSERT_EQ(pm.exitCode, 0) << pm.out;
  EXPECT_EQ(pm.json()["ips"], b1.json()["ips"]);  // prevResult passed on
  startServer();

  EXPECT_EQ(connect(*host_, "127.0.0.1", 8080), "pod1\n");  // localhost (route_localnet)
  EXPECT_EQ(connect(*host_, "10.98.0.1", 8080), "pod1\n");  // a host address
  EXPECT_EQ(connect(*pod2_, "10.98.0.1", 8080), "pod1\n");  // another pod (hairpin masq)
  EXPECT_EQ(connect(*pod1_, "10.98.0.1", 8080), "pod1\n");  // the pod itself
  EXPECT_EQ(connect(*host_, "127.0.0.1", 9090), "pod1\n");  // hostIP-bound
  EXPECT_NE(connect(*pod2_, "10.98.0.1", 9090), "pod1\n");  // ... only on that address
  auto table = host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second;
  EXPECT_NE(table.find("udp . 5353 comment \"pm1/eth0\" : 10.98.0.2 . 53"), std::string::npos)
      << table;
  EXPECT_NE(table.find("sctp . 7070 comment \"pm1/eth0\" : 10.98.0.2 . 70"), std::string::npos)
      << table;
  EXPECT_EQ(run("portmap", "CHECK", *pod1_, "pm1", pmConf).exitCode, 0);

  // A second pod can't take a hostPort that is held.
  auto clash = run("portmap", "ADD", *pod2_, "pm2", portmapConf(b2.json()));
  EXPECT_EQ(clash.exitCode, 1) << clash.out;

  auto del = run("portmap", "DEL", *pod1_, "pm1", pmConf);
  ASSERT_EQ(del.exitCode, 0) << del.out;
  table = host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second;
  for (const char* gone : {"8080", "9090", "5353", "7070", "10.98.0.2"}) {
    EXPECT_EQ(table.find(gone), std::string::npos) << gone << "\n" << table;
  }
  EXPECT_NE(connect(*host_, "127.0.0.1", 8080), "pod1\n");
  EXPECT_EQ(run("portmap", "DEL", *pod1_, "pm1", pmConf).exitCode, 0);  // idempotent
  auto check = run("portmap", "CHECK", *pod1_, "pm1", pmConf);
  EXPECT_EQ(check.exitCode, 1);
  // Now the second pod may have the ports.
  EXPECT_EQ(run("portmap", "ADD", *pod2_, "pm2", portmapConf(b2.json())).exitCode, 0);
}

// Exactly what containerd's CRI sends portmap: its PortMapping struct has no JSON tags, so the
// keys are HostPort, ContainerPort, Protocol, HostIP (read as Go's encoding/json reads them).
TEST_F(PortmapPlugin, ContainerdsPortMappingsReachThePodAndDelRemovesThem) {
  auto b1 = run("bridge", "ADD", *pod1_, "ctrd1", bridgeConf());
  ASSERT_EQ(b1.exitCode, 0) << b1.out;
  nlohmann::json conf = {{"cniVersion", "1.1.0"},
                         {"name", "pmnet"},
                         {"type", "portmap"},
                         {"capabilities", {{"portMappings", true}}},
                         {"prevResult", b1.json()}};
  conf["runtimeConfig"]["portMappings"] = nlohmann::json::parse(
      R"([{"HostPort": 18080, "ContainerPort": 80, "Protocol": "tcp", "HostIP": "127.0.0.1"}])");
  auto pm = run("portmap", "ADD", *pod1_, "ctrd1", conf.dump());
  ASSERT_EQ(pm.exitCode, 0) << pm.out;
  startServer();
  EXPECT_EQ(connect(*host_, "127.0.0.1", 18080), "pod1\n");
  EXPECT_EQ(run("portmap", "CHECK", *pod1_, "ctrd1", conf.dump()).exitCode, 0);
  auto del = run("portmap", "DEL", *pod1_, "ctrd1", conf.dump());
  ASSERT_EQ(del.exitCode, 0) << del.out;
  auto table = host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second;
  EXPECT_EQ(table.find("ctrd1/eth0"), std::string::npos) << table;
  EXPECT_NE(connect(*host_, "127.0.0.1", 18080), "pod1\n");
}

TEST_F(PortmapPlugin, Ipv6HostPortFromTheHostAndAnotherPod) {
  auto dual = nlohmann::json::parse(bridgeConf());
  dual["ipam"].erase("subnet");
  dual["ipam"]["ranges"] = {{{{"subnet", "10.96.0.0/24"}}}, {{{"subnet", "fd96::/64"}}}};
  auto b1 = run("bridge", "ADD", *pod1_, "v6a", dual.dump());
  ASSERT_EQ(b1.exitCode, 0) << b1.out;
  auto b2 = run("bridge", "ADD", *pod2_, "v6b", dual.dump());
  ASSERT_EQ(b2.exitCode, 0) << b2.out;
  EXPECT_EQ(b1.json()["ips"][1]["address"], "fd96::2/64");
  auto pm = run("portmap", "ADD", *pod1_, "v6a", portmapConf(b1.json()));
  ASSERT_EQ(pm.exitCode, 0) << pm.out;
  auto table = host_->exec({"nft", "list", "map", "inet", "berth-cni", "hostports6"}).second;
  EXPECT_NE(table.find("tcp . 8080 comment \"v6a/eth0\" : fd96::2 . 80"), std::string::npos)
      << table;
  startServer();
  EXPECT_EQ(connect(*host_, "fd96::1", 8080), "pod1\n");
  EXPECT_EQ(connect(*pod2_, "fd96::1", 8080), "pod1\n");  // hairpin masquerade, IPv6
  ASSERT_EQ(run("portmap", "DEL", *pod1_, "v6a", portmapConf(b1.json())).exitCode, 0);
  EXPECT_NE(connect(*host_, "fd96::1", 8080), "pod1\n");
}

TEST_F(PortmapPlugin, DelWithoutPrevResultAndGcFindElementsByOwner) {
  auto b1 = run("bridge", "ADD", *pod1_, "own1", bridgeConf());
  ASSERT_EQ(b1.exitCode, 0) << b1.out;
  auto b2 = run("bridge", "ADD", *pod2_, "own2", bridgeConf());
  ASSERT_EQ(b2.exitCode, 0) << b2.out;
  ASSERT_EQ(run("portmap", "ADD", *pod1_, "own1", portmapConf(b1.json())).exitCode, 0);
  auto conf2 = nlohmann::json::parse(portmapConf(b2.json()));
  for (auto& m : conf2["runtimeConfig"]["portMappings"])
    m["hostPort"] = m["hostPort"].get<int>() + 1;
  ASSERT_EQ(run("portmap", "ADD", *pod2_, "own2", conf2.dump()).exitCode, 0);
  auto table = [&] { return host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second; };
  EXPECT_NE(table().find("\"own1/eth0\""), std::string::npos) << table();

  // DEL with neither prevResult nor mappings (a runtime that lost them): found by owner.
  const std::string bare = R"({"cniVersion": "1.1.0", "name": "pmnet", "type": "portmap"})";
  auto del = run("portmap", "DEL", *pod1_, "own1", bare);
  ASSERT_EQ(del.exitCode, 0) << del.out;
  EXPECT_EQ(table().find("own1/eth0"), std::string::npos) << table();
  EXPECT_NE(table().find("own2/eth0"), std::string::npos);

  // GC keeps only the valid attachments' elements.
  ASSERT_EQ(run("portmap", "ADD", *pod1_, "own1", portmapConf(b1.json())).exitCode, 0);
  auto gc = runPlugin(kBin + "/portmap", "GC", "", "", "",
                      R"({"cniVersion": "1.1.0", "name": "pmnet", "type": "portmap",
                          "cni.dev/valid-attachments": [{"containerID": "own2", "ifname": "eth0"}]})",
                      {}, host_->name());
  ASSERT_EQ(gc.exitCode, 0) << gc.out;
  EXPECT_EQ(table().find("own1/eth0"), std::string::npos) << table();
  EXPECT_NE(table().find("own2/eth0"), std::string::npos);
  auto status = runPlugin(kBin + "/portmap", "STATUS", "", "", "", bare, {}, host_->name());
  EXPECT_EQ(status.exitCode, 0) << status.out;
}

TEST_F(PortmapPlugin, ErrorsNameTheField) {
  auto noPrev = run("portmap", "ADD", *pod1_, "x",
                    R"({"cniVersion": "1.1.0", "name": "n", "type": "portmap"})");
  EXPECT_EQ(noPrev.exitCode, 1);
  EXPECT_NE(noPrev.json()["msg"].get<std::string>().find("prevResult"), std::string::npos);
  auto badPort = run("portmap", "ADD", *pod1_, "x", R"({"cniVersion": "1.1.0", "name": "n",
      "type": "portmap", "runtimeConfig": {"portMappings": [{"hostPort": 70000,
      "containerPort": 80}]}, "prevResult": {"cniVersion": "1.1.0"}})");
  EXPECT_EQ(badPort.json()["code"], 7);
  EXPECT_NE(badPort.json()["msg"].get<std::string>().find("runtimeConfig.portMappings[0].hostPort"),
            std::string::npos);
  auto cond = run("portmap", "ADD", *pod1_, "x", R"({"cniVersion": "1.1.0", "name": "n",
      "type": "portmap", "conditionsV4": ["-s", "1.2.3.4"], "prevResult": {}})");
  EXPECT_EQ(cond.json()["code"], 2);
}

}  // namespace
}  // namespace berth::testing
