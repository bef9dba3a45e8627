#include "cni-plugins/host_local/host_local.h"

#include <unistd.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"

namespace berth::cni::hostlocal {
namespace {

namespace fs = std::filesystem;

class HostLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("berth-hl-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(makeDirs(dir_));
  }
  void TearDown() override { (void)removeAll(dir_); }

  std::string conf(std::string_view ipamExtra, std::string_view version = "1.1.0") const {
    return fmt::format(R"({{"cniVersion": "{}", "name": "net1", "type": "bridge",
        "ipam": {{"type": "host-local", "dataDir": "{}", {}}}}})",
                       version, dir_.string(), ipamExtra);
  }
  CmdArgs args(std::string_view json, std::string id = "ctr1", std::string ifname = "eth0",
               std::string cniArgs = "") {
    CmdArgs a;
    a.containerId = std::move(id);
    a.ifName = std::move(ifname);
    a.args = std::move(cniArgs);
    a.stdinData = std::string(json);
    auto c = parseNetConf(json);
    EXPECT_TRUE(c) << c.error().msg;
    a.conf = *c;
    return a;
  }
  std::string file(std::string_view name) const {
    return readFile(dir_ / "net1" / name).value_or("<missing>");
  }
  bool exists(std::string_view name) const { return fs::exists(dir_ / "net1" / name); }

  fs::path dir_;
};

constexpr std::string_view kSubnet = R"("subnet": "10.1.0.0/24")";

TEST_F(HostLocalTest, AddWritesTheReferenceLayout) {
  auto c = conf(kSubnet);
  auto r = cmdAdd(args(c));
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->ips.size(), 1u);
  EXPECT_EQ(r->ips[0].address.str(), "10.1.0.2/24");  // .1 is the gateway
  EXPECT_EQ(r->ips[0].gateway->str(), "10.1.0.1");
  EXPECT_EQ(file("10.1.0.2"), "ctr1\r\neth0");
  EXPECT_EQ(file("last_reserved_ip.0"), "10.1.0.2");
  EXPECT_TRUE(exists("lock"));

  // Round-robin: a freed address is not reused before the range wraps.
  auto r2 = cmdAdd(args(c, "ctr2"));
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->ips[0].address.str(), "10.1.0.3/24");
  ASSERT_TRUE(cmdDel(args(c)));
  EXPECT_FALSE(exists("10.1.0.2"));
  auto r3 = cmdAdd(args(c, "ctr3"));
  EXPECT_EQ(r3->ips[0].address.str(), "10.1.0.4/24");

  // DEL is idempotent; CHECK finds the address or says it's missing.
  EXPECT_TRUE(cmdDel(args(c)));
  EXPECT_TRUE(cmdCheck(args(c, "ctr2")));
  // With a prevResult, each of its addresses must still be the attachment's.
  auto withPrev = [&](const char* addr) {
    auto j = Json::parse(c);
    j["prevResult"] = {{"cniVersion", "1.1.0"}, {"ips", {{{"address", addr}}}}};
    return j.dump();
  };
  EXPECT_TRUE(cmdCheck(args(withPrev("10.1.0.3/24"), "ctr2")));
  auto stolen = cmdCheck(args(withPrev("10.1.0.4/24"), "ctr2"));
  ASSERT_FALSE(stolen);
  EXPECT_NE(stolen.error().msg.find("10.1.0.4 is not allocated to ctr2/eth0"), std::string::npos);
  auto missing = cmdCheck(args(c, "ctr1"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().msg.find("ctr1"), std::string::npos);
}

// DEL needs only what finds the store: a config whose ranges or CNI_ARGS ADD would refuse still
// releases the attachment's addresses.
TEST_F(HostLocalTest, DelReleasesWhateverElseDoesNotParse) {
  ASSERT_TRUE(cmdAdd(args(conf(kSubnet))));
  EXPECT_TRUE(exists("10.1.0.2"));
  auto broken = conf(R"("subnet": "not a subnet", "routes": 5)");
  ASSERT_FALSE(cmdAdd(args(broken, "ctr2")));
  auto del = args(broken, "ctr1", "eth0", "K8S_POD_NAME=web");  // no IgnoreUnknown either
  ASSERT_TRUE(cmdDel(del));
  EXPECT_FALSE(exists("10.1.0.2"));
  // The store is still found by name and dataDir alone.
  auto noName = args(broken);
  noName.conf.name.clear();
  EXPECT_FALSE(cmdDel(noName));
}

TEST_F(HostLocalTest, DuplicateAttachmentIsRefused) {
  auto c = conf(kSubnet);
  ASSERT_TRUE(cmdAdd(args(c)));
  auto again = cmdAdd(args(c));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().msg.find("duplicate allocation is not allowed"), std::string::npos);
  // Another interface of the same container is a new attachment.
  EXPECT_TRUE(cmdAdd(args(c, "ctr1", "eth1")));
}

TEST_F(HostLocalTest, DualStackAndRollbackWhenOneFamilyIsExhausted) {
  auto c = conf(R"("ranges": [[{"subnet": "10.1.0.0/24", "rangeStart": "10.1.0.10",
                                "rangeEnd": "10.1.0.11"}],
                              [{"subnet": "fd00::/120", "rangeStart": "fd00::10",
                                "rangeEnd": "fd00::10"}]],
                 "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}])");
  auto r = cmdAdd(args(c));
  ASSERT_TRUE(r) << r.error().msg;
  ASSERT_EQ(r->ips.size(), 2u);
  EXPECT_EQ(r->ips[0].address.str(), "10.1.0.10/24");
  EXPECT_EQ(r->ips[1].address.str(), "fd00::10/120");
  EXPECT_EQ(r->ips[1].gateway->str(), "fd00::1");
  EXPECT_EQ(r->routes.size(), 2u);
  EXPECT_EQ(file("last_reserved_ip.1"), "fd00::10");
  // IPv6 is exhausted: the IPv4 address taken for ctr2 is given back.
  auto r2 = cmdAdd(args(c, "ctr2"));
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().msg.find("no IP addresses available in range set: fd00::10-fd00::10"),
            std::string::npos)
      << r2.error().msg;
  EXPECT_FALSE(exists("10.1.0.11"));
}

TEST_F(HostLocalTest, WrapsAroundAcrossRangesAndSkipsGateway) {
  auto c = conf(R"("ranges": [[{"subnet": "10.1.0.0/24", "rangeStart": "10.1.0.1",
                                "rangeEnd": "10.1.0.2"},
                               {"subnet": "10.2.0.0/24", "rangeStart": "10.2.0.5",
                                "rangeEnd": "10.2.0.5"}]])");
  std::vector<std::string> got;
  for (int i = 0; i < 2; ++i) {
    auto r = cmdAdd(args(c, fmt::format("c{}", i)));
    ASSERT_TRUE(r) << r.error().msg;
    got.push_back(r->ips[0].address.str());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"10.1.0.2/24", "10.2.0.5/24"}));
  ASSERT_TRUE(cmdDel(args(c, "c0")));
  auto r = cmdAdd(args(c, "c9"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ips[0].address.str(), "10.1.0.2/24");  // wrapped to the first range
  EXPECT_FALSE(cmdAdd(args(c, "c10")));
}

TEST_F(HostLocalTest, RequestedAddresses) {
  auto c = conf(kSubnet);
  auto r = cmdAdd(args(c, "a", "eth0", "IgnoreUnknown=1;IP=10.1.0.50"));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->ips[0].address.str(), "10.1.0.50/24");
  auto taken = cmdAdd(args(c, "b", "eth0", "IP=10.1.0.50"));
  ASSERT_FALSE(taken);
  EXPECT_NE(taken.error().msg.find("10.1.0.50 is not available"), std::string::npos);
  auto outside = cmdAdd(args(c, "b", "eth0", "IP=10.9.0.50"));
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().msg.find("10.9.0.50"), std::string::npos);
  EXPECT_FALSE(cmdAdd(args(c, "b", "eth0", "IP=10.1.0.1")));  // the gateway
  // The "ips" capability.
  auto cap = conf(R"("subnet": "10.1.0.0/24"}, "runtimeConfig": {"ips": ["10.1.0.77/24"])");
  auto r2 = cmdAdd(args(cap, "c"));
  ASSERT_TRUE(r2) << r2.error().msg;
  EXPECT_EQ(r2->ips[0].address.str(), "10.1.0.77/24");
}

TEST_F(HostLocalTest, GcKeepsOnlyValidAttachments) {
  auto c = conf(kSubnet);
  ASSERT_TRUE(cmdAdd(args(c, "keep")));
  ASSERT_TRUE(cmdAdd(args(c, "drop")));
  ASSERT_TRUE(writeFile(dir_ / "net1" / "10.1.0.99", "old"));  // the pre-ifname format
  auto gc = fmt::format(R"({{"cniVersion": "1.1.0", "name": "net1", "type": "bridge",
      "cni.dev/valid-attachments": [{{"containerID": "keep", "ifname": "eth0"}}],
      "ipam": {{"type": "host-local", "dataDir": "{}", "subnet": "10.1.0.0/24"}}}})",
                        dir_.string());
  ASSERT_TRUE(cmdGc(args(gc)));
  EXPECT_TRUE(exists("10.1.0.2"));
  EXPECT_FALSE(exists("10.1.0.3"));
  EXPECT_FALSE(exists("10.1.0.99"));
  EXPECT_TRUE(exists("last_reserved_ip.0"));
  EXPECT_TRUE(cmdStatus(args(gc)));
}

TEST_F(HostLocalTest, DnsFromResolvConf) {
  ASSERT_TRUE(writeFile(dir_ / "resolv.conf",
                        "# c\nnameserver 10.0.0.10\nnameserver fd00::10\ndomain cluster.local\n"
                        "search a.svc b.svc\noptions ndots:5 edns0\n"));
  auto c = conf(fmt::format(R"("subnet": "10.1.0.0/24", "resolvConf": "{}")",
                            (dir_ / "resolv.conf").string()));
  auto r = cmdAdd(args(c));
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->dns.nameservers, (std::vector<std::string>{"10.0.0.10", "fd00::10"}));
  EXPECT_EQ(r->dns.domain, "cluster.local");
  EXPECT_EQ(r->dns.search, (std::vector<std::string>{"a.svc", "b.svc"}));
  EXPECT_EQ(r->dns.options, (std::vector<std::string>{"ndots:5", "edns0"}));
  auto missing =
      cmdAdd(args(conf(R"("subnet": "10.1.0.0/24", "resolvConf": "/nonexistent")"), "x"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().msg.find("ipam.resolvConf"), std::string::npos);
}

// The binary under concurrent ADDs (as many pods start at once): every address handed out once.
TEST_F(HostLocalTest, ConcurrentAddsGetDistinctAddresses) {
  constexpr int kPods = 40;
  auto c = conf(kSubnet, "1.0.0");
  std::vector<std::string> outputs(kPods);
  std::vector<int> codes(kPods, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      SpawnOptions o;
      o.path = BERTH_HOST_LOCAL;
      o.args = {"host-local"};
      o.env = std::vector<std::string>{"CNI_COMMAND=ADD", fmt::format("CNI_CONTAINERID=pod{}", i),
                                       "CNI_NETNS=/proc/self/ns/net", "CNI_IFNAME=eth0",
                                       "CNI_PATH=/nonexistent"};
      o.stdinData = c;
      o.captureStdout = true;
      auto r = runProgram(o);
      if (r) {
        codes[i] = r->status.code;
        outputs[i] = r->stdoutData;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  std::set<std::string> addresses;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_EQ(codes[i], 0) << outputs[i];
    auto j = Json::parse(outputs[i]);
    addresses.insert(j["ips"][0]["address"].get<std::string>());
  }
  EXPECT_EQ(addresses.size(), static_cast<size_t>(kPods));
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "net1")) {
    files += IpAddr::parse(e.path().filename().string()) ? 1 : 0;
  }
  EXPECT_EQ(files, static_cast<size_t>(kPods));
}

}  // namespace
}  // namespace berth::cni::hostlocal
