// The runtime library (through berth-cnitool) running conflists, and interop both ways with
// Debian's containernetworking-plugins: their bridge with our host-local, our bridge with their
// portmap, their bridge and host-local with our portmap. Everything runs inside a "host" netns
// the test creates.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/child_process.h"
#include "common/file_util.h"
#include "tests/integration/cni/cni_fixture.h"

namespace berth::testing {
namespace {

namespace fs = std::filesystem;
const std::string kOurs = BERTH_CNI_BIN_DIR;
const std::string kRef = "/usr/lib/cni";

class CniInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    host_ = std::make_unique<TestNetns>("berth-ioh");
    pod1_ = std::make_unique<TestNetns>("berth-iop1");
    pod2_ = std::make_unique<TestNetns>("berth-iop2");
    ASSERT_TRUE(host_->ok() && pod1_->ok() && pod2_->ok());
    ASSERT_EQ(host_->exec({"ip", "link", "set", "lo", "up"}).first, 0);
    dir_ = fmt::format("/tmp/berth-cni-interop-{}", ::getpid());
    (void)removeAll(dir_);
    ASSERT_TRUE(makeDirs(dir_ + "/net.d"));
    ASSERT_TRUE(makeDirs(dir_ + "/bin"));
  }
  void TearDown() override {
    server_.killAndReap();
    pod1_.reset();
    pod2_.reset();
    host_.reset();
    if (!dir_.empty()) (void)removeAll(dir_);
  }
  bool haveReference() const { return ::access((kRef + "/bridge").c_str(), X_OK) == 0; }
  // The plugin dir of this test: each plugin from ours or the reference.
  void plugins(const std::map<std::string, std::string>& from) {
    for (const auto& [name, src] : from) {
      fs::create_symlink(src + "/" + name, dir_ + "/bin/" + name);
    }
  }
  void conflist(const std::string& plugins) {
    ASSERT_TRUE(writeFile(dir_ + "/net.d/10-test.conflist",
                          fmt::format(R"({{"cniVersion": "1.0.0", "name": "ionet",
                              "plugins": [{}]}})",
                                      plugins)));
  }
  std::string bridgePlugin() const {
    return fmt::format(R"({{"type": "bridge", "bridge": "cni-io0", "isGateway": true,
        "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "subnet": "10.97.0.0/24"}}}})",
                       dir_);
  }
  static constexpr std::string_view kPortmap =
      R"({"type": "portmap", "capabilities": {"portMappings": true}})";
  std::pair<int, std::string> cnitool(const std::vector<std::string>& args,
                                      const std::string& capArgs = "") {
    std::vector<std::string> argv = {"env"};
    if (!capArgs.empty()) argv.push_back("CAP_ARGS=" + capArgs);
    argv.insert(argv.end(), {kOurs + "/berth-cnitool", "--conf-dir", dir_ + "/net.d", "--bin-dir",
                             dir_ + "/bin", "--cache-dir", dir_ + "/cache"});
    argv.insert(argv.end(), args.begin(), args.end());
    return host_->exec(argv);
  }
  void startServer(const TestNetns& ns) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execlp("ip", "ip", "netns", "exec", ns.name().c_str(), "busybox", "nc", "-ll", "-p", "80",
               "-e", "echo", "served", nullptr);
      ::_exit(127);
    }
    server_ = ChildProcess(pid);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::istringstream lines(ns.exec({"cat", "/proc/net/tcp", "/proc/net/tcp6"}).second);
      for (std::string line; std::getline(lines, line);) {
        if (line.find(":0050 ") != std::string::npos && line.find(" 0A ") != std::string::npos) {
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "server did not listen";
  }
  std::string connect(const std::string& ip, int port) {
    return host_->exec({"timeout", "5", "busybox", "nc", "-w", "2", ip, std::to_string(port)})
        .second;
  }
  std::string ipOf(const std::string& addOutput) {
    auto j = nlohmann::json::parse(addOutput, nullptr, false);
    if (j.is_discarded()) return "";
    auto a = j["ips"][0]["address"].get<std::string>();
    return a.substr(0, a.find('/'));
  }

  std::unique_ptr<TestNetns> host_, pod1_, pod2_;
  std::string dir_;
  ChildProcess server_;
};

const std::string kCap = R"({"portMappings": [{"hostPort": 8081, "containerPort": 80,
    "protocol": "tcp"}]})";

TEST_F(CniInterop, RuntimeLibraryRunsOurChainWithCacheCheckAndDel) {
  plugins({{"bridge", kOurs}, {"host-local", kOurs}, {"portmap", kOurs}});
  conflist(bridgePlugin() + "," + std::string(kPortmap));
  auto add = cnitool({"add", "pod1", pod1_->path()}, kCap);
  ASSERT_EQ(add.first, 0) << add.second;
  EXPECT_EQ(ipOf(add.second), "10.97.0.2");
  EXPECT_TRUE(fs::exists(dir_ + "/cache/results/ionet-pod1-eth0"));
  startServer(*pod1_);
  EXPECT_EQ(connect("127.0.0.1", 8081), "served\n");
  auto check = cnitool({"check", "pod1", pod1_->path()});
  EXPECT_EQ(check.first, 0) << check.second;
  auto del = cnitool({"del", "pod1", pod1_->path()});
  ASSERT_EQ(del.first, 0) << del.second;
  EXPECT_FALSE(fs::exists(dir_ + "/cache/results/ionet-pod1-eth0"));
  EXPECT_FALSE(fs::exists(dir_ + "/ipam/ionet/10.97.0.2"));
  EXPECT_NE(connect("127.0.0.1", 8081), "served\n");
  EXPECT_EQ(host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second.find("8081"),
            std::string::npos);
  // GC with no valid attachments cleans a pod the runtime forgot.
  ASSERT_EQ(cnitool({"add", "pod2", pod2_->path()}, kCap).first, 0);
  auto gc = cnitool({"gc"});
  EXPECT_EQ(gc.first, 0) << gc.second;
  EXPECT_FALSE(fs::exists(dir_ + "/cache/results/ionet-pod2-eth0"));
  EXPECT_EQ(pod2_->exec({"ip", "link", "show", "eth0"}).first, 1);
}

// The runtime's DEL after a failed ADD (portmap refused its mappings, after bridge had made the
// veth, reserved an address and masqueraded the subnet): no cache, no prevResult, the same
// capability args. Every plugin cleans up: nothing of the pod is left.
TEST_F(CniInterop, DelAfterAFailedAddLeavesNothing) {
  plugins({{"bridge", kOurs}, {"host-local", kOurs}, {"portmap", kOurs}});
  std::string bridge = bridgePlugin();
  bridge.insert(bridge.find(R"("isGateway")"), R"("ipMasq": true, )");
  conflist(bridge + "," + std::string(kPortmap));
  const std::string badCap = R"({"portMappings": [{"hostPort": 0, "containerPort": 80}]})";
  auto add = cnitool({"add", "pod1", pod1_->path()}, badCap);
  ASSERT_NE(add.first, 0) << add.second;
  EXPECT_NE(add.second.find("runtimeConfig.portMappings[0].hostPort"), std::string::npos)
      << add.second;
  auto masq = [&] {
    return host_->exec({"nft", "list", "set", "inet", "berth-cni", "masq-nets4"}).second;
  };
  ASSERT_NE(masq().find("10.97.0.0/24"), std::string::npos) << masq();  // what ADD left
  ASSERT_TRUE(fs::exists(dir_ + "/ipam/ionet/10.97.0.2"));

  auto del = cnitool({"del", "pod1", pod1_->path()}, badCap);
  ASSERT_EQ(del.first, 0) << del.second;
  EXPECT_EQ(pod1_->exec({"ip", "link", "show", "eth0"}).first, 1);
  EXPECT_EQ(host_->exec({"ip", "-o", "link", "show", "type", "veth"}).second, "");
  EXPECT_EQ(sh("ls " + dir_ + "/ipam/ionet").second, "last_reserved_ip.0\nlock\n");
  EXPECT_EQ(masq().find("10.97.0.0/24"), std::string::npos) << masq();
  EXPECT_EQ(host_->exec({"nft", "list", "table", "inet", "berth-cni"}).second.find("pod1/eth0"),
            std::string::npos);
  EXPECT_EQ(cnitool({"del", "pod1", pod1_->path()}, badCap).first, 0);  // and again
}

TEST_F(CniInterop, ReferenceBridgeWithOurHostLocal) {
  if (!haveReference()) GTEST_SKIP() << "containernetworking-plugins is not installed";
  plugins({{"bridge", kRef}, {"host-local", kOurs}});
  conflist(bridgePlugin());
  auto a1 = cnitool({"add", "pod1", pod1_->path()});
  ASSERT_EQ(a1.first, 0) << a1.second;
  auto a2 = cnitool({"add", "pod2", pod2_->path()});
  ASSERT_EQ(a2.first, 0) << a2.second;
  EXPECT_EQ(ipOf(a1.second), "10.97.0.2");
  EXPECT_EQ(ipOf(a2.second), "10.97.0.3");
  EXPECT_EQ(*readFile(dir_ + "/ipam/ionet/10.97.0.2"), "pod1\r\neth0");
  EXPECT_EQ(pod1_->exec({"busybox", "ping", "-c", "1", "-W", "2", "10.97.0.3"}).first, 0);
  ASSERT_EQ(cnitool({"del", "pod1", pod1_->path()}).first, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/ipam/ionet/10.97.0.2"));
}

TEST_F(CniInterop, OurBridgeWithReferenceHostLocalAndLoopback) {
  if (!haveReference()) GTEST_SKIP() << "containernetworking-plugins is not installed";
  plugins({{"bridge", kOurs}, {"host-local", kRef}, {"loopback", kRef}});
  conflist(bridgePlugin() + R"(, {"type": "loopback"})");
  auto a1 = cnitool({"add", "pod1", pod1_->path()});
  ASSERT_EQ(a1.first, 0) << a1.second;
  auto a2 = cnitool({"add", "pod2", pod2_->path()});
  ASSERT_EQ(a2.first, 0) << a2.second;
  EXPECT_EQ(ipOf(a2.second), "10.97.0.3");
  EXPECT_EQ(pod2_->exec({"busybox", "ping", "-c", "1", "-W", "2", "10.97.0.2"}).first, 0);
  ASSERT_EQ(cnitool({"del", "pod1", pod1_->path()}).first, 0);
  ASSERT_EQ(cnitool({"del", "pod2", pod2_->path()}).first, 0);
  EXPECT_EQ(sh("ls " + dir_ + "/ipam/ionet").second, "last_reserved_ip.0\nlock\n");
}

TEST_F(CniInterop, ReferenceLoopbackAndOursAgreeOnVersion) {
  if (!haveReference()) GTEST_SKIP() << "containernetworking-plugins is not installed";
  // VERSION through the same protocol: ours lists everything theirs does, and 1.1.0.
  for (const std::string plugin : {"bridge", "host-local", "loopback", "portmap"}) {
    auto ours =
        runPlugin(kOurs + "/" + plugin, "VERSION", "", "", "", R"({"cniVersion": "1.0.0"})");
    auto ref = runPlugin(kRef + "/" + plugin, "VERSION", "", "", "", R"({"cniVersion": "1.0.0"})");
    ASSERT_EQ(ours.exitCode, 0) << ours.out;
    ASSERT_EQ(ref.exitCode, 0) << ref.out;
    EXPECT_EQ(ours.json()["cniVersion"], ref.json()["cniVersion"]);
    for (const auto& v : ref.json()["supportedVersions"]) {
      auto list = ours.json()["supportedVersions"];
      EXPECT_NE(std::find(list.begin(), list.end(), v), list.end()) << plugin << " " << v;
    }
  }
}

TEST_F(CniInterop, OurBridgeWithReferencePortmap) {
  if (!haveReference()) GTEST_SKIP() << "containernetworking-plugins is not installed";
  plugins({{"bridge", kOurs}, {"host-local", kOurs}, {"portmap", kRef}});
  conflist(bridgePlugin() + "," + std::string(kPortmap));
  auto add = cnitool({"add", "pod1", pod1_->path()}, kCap);
  ASSERT_EQ(add.first, 0) << add.second;
  startServer(*pod1_);
  EXPECT_EQ(connect("10.97.0.1", 8081), "served\n");
  auto del = cnitool({"del", "pod1", pod1_->path()});
  EXPECT_EQ(del.first, 0) << del.second;
}

TEST_F(CniInterop, ReferenceBridgeAndHostLocalWithOurPortmap) {
  if (!haveReference()) GTEST_SKIP() << "containernetworking-plugins is not installed";
  plugins({{"bridge", kRef}, {"host-local", kRef}, {"portmap", kOurs}});
  conflist(bridgePlugin() + "," + std::string(kPortmap));
  auto add = cnitool({"add", "pod1", pod1_->path()}, kCap);
  ASSERT_EQ(add.first, 0) << add.second;
  startServer(*pod1_);
  EXPECT_EQ(connect("127.0.0.1", 8081), "served\n");
  EXPECT_EQ(connect("10.97.0.1", 8081), "served\n");
  ASSERT_EQ(cnitool({"del", "pod1", pod1_->path()}).first, 0);
  EXPECT_NE(connect("10.97.0.1", 8081), "served\n");
}

}  // namespace
}  // namespace berth::testing
