#include "cni-plugins/libcni/libcni.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <gtest/gtest.h>

#include "common/file_util.h"

namespace berth::cni {
namespace {

namespace fs = std::filesystem;

class LibCniTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("berth-libcni-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(makeDirs(dir_ / "bin"));
    // findPlugin needs executables to exist; the fake exec does the rest.
    for (const char* p : {"bridge", "portmap"}) {
      ASSERT_TRUE(writeFile(dir_ / "bin" / p, "#!/bin/sh\n", 0755));
    }
  }
  void TearDown() override { (void)removeAll(dir_); }

  CniRuntime runtime() {
    CniRuntime::Options o;
    o.binDirs = {(dir_ / "bin").string()};
    o.cacheDir = dir_ / "cache";
    o.exec = [this](const ExecRequest& r) -> CniResult<std::string> {
      calls_.push_back(r);
      auto type = fs::path(r.binary).filename().string();
      if (type == failOn_) return cniFail(kInternal, "boom");
      auto in = Json::parse(r.stdinData);
      if (r.env.at("CNI_COMMAND") != "ADD") return std::string();
      if (type == "bridge") {
        return std::string(
            R"({"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.2/24", "interface": 0}],
                "interfaces": [{"name": "eth0", "sandbox": "/run/netns/x"}]})");
      }
      return in["prevResult"].dump();  // portmap passes it on
    };
    return CniRuntime(o);
  }
  NetworkConfigList list() {
    return *parseConfList(R"({"cniVersion": "1.1.0", "name": "net1", "plugins": [
        {"type": "bridge", "bridge": "cni0"},
        {"type": "portmap", "capabilities": {"portMappings": true}}]})",
                          "test");
  }
  RuntimeConf rt() {
    RuntimeConf r;
    r.containerID = "ctr1";
    r.netns = "/run/netns/x";
    r.args = {{"K8S_POD_NAME", "web"}, {"IgnoreUnknown", "1"}};
    r.capabilityArgs = {{"portMappings", {{{"hostPort", 8080}, {"containerPort", 80}}}},
                        {"mac", "aa:bb:cc:dd:ee:ff"}};
    return r;
  }

  fs::path dir_;
  std::vector<ExecRequest> calls_;
  std::string failOn_;
};

TEST_F(LibCniTest, LoadsTheFirstValidConfigInLexicalOrder) {
  fs::create_directories(dir_ / "net.d");
  ASSERT_TRUE(writeFile(dir_ / "net.d/05-broken.conflist", "{"));
  ASSERT_TRUE(writeFile(dir_ / "net.d/10-noplugins.conflist", R"({"name": "x", "plugins": []})"));
  ASSERT_TRUE(writeFile(dir_ / "net.d/20-single.conf",
                        R"({"cniVersion": "1.0.0", "name": "single", "type": "bridge"})"));
  ASSERT_TRUE(writeFile(dir_ / "net.d/30-list.conflist",
                        R"({"cniVersion": "1.1.0", "name": "later", "plugins": [{"type": "a"}]})"));
  ASSERT_TRUE(writeFile(dir_ / "net.d/README", "not a config"));
  std::vector<std::string> skipped;
  auto l = loadDefaultNetwork(dir_ / "net.d", &skipped);
  ASSERT_TRUE(l) << l.error().msg;
  EXPECT_EQ(l->name, "single");
  ASSERT_EQ(l->plugins.size(), 1u);
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("05-broken.conflist: invalid JSON"), std::string::npos);
  EXPECT_NE(skipped[1].find("plugins: must be a non-empty array"), std::string::npos);
  EXPECT_FALSE(loadDefaultNetwork(dir_ / "nonexistent"));
}

TEST_F(LibCniTest, CniVersionsPicksTheHighestSupported) {
  auto l = parseConfList(R"({"cniVersion": "0.4.0", "cniVersions": ["1.0.0", "1.1.0", "9.0.0"],
      "name": "n", "plugins": [{"type": "a"}]})",
                         "f");
  ASSERT_TRUE(l) << l.error().msg;
  EXPECT_EQ(l->cniVersion, "1.1.0");
  auto none =
      parseConfList(R"({"cniVersions": ["9.0.0"], "name": "n", "plugins": [{"type": "a"}]})", "f");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, kIncompatibleVersion);
}

TEST_F(LibCniTest, ConfListErrorsNameTheField) {
  EXPECT_NE(parseConfList(R"({"plugins": [{"type": "a"}]})", "f").error().msg.find("f: name"),
            std::string::npos);
  EXPECT_NE(parseConfList(R"({"name": "n", "plugins": [{"x": 1}]})", "f")
                .error()
                .msg.find("plugins[0].type: required"),
            std::string::npos);
  EXPECT_EQ(
      parseConfList(R"({"name": "n", "cniVersion": "9.9.9", "plugins": [{"type": "a"}]})", "f")
          .error()
          .code,
      kIncompatibleVersion);
}

TEST_F(LibCniTest, AddRunsTheChainAndCachesTheResult) {
  auto cni = runtime();
  auto r = cni.add(list(), rt());
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->ips[0].address.str(), "10.0.0.2/24");
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(calls_[0].env.at("CNI_COMMAND"), "ADD");
  EXPECT_EQ(calls_[0].env.at("CNI_CONTAINERID"), "ctr1");
  EXPECT_EQ(calls_[0].env.at("CNI_NETNS"), "/run/netns/x");
  EXPECT_EQ(calls_[0].env.at("CNI_IFNAME"), "eth0");
  EXPECT_EQ(calls_[0].env.at("CNI_ARGS"), "K8S_POD_NAME=web;IgnoreUnknown=1");
  EXPECT_EQ(calls_[0].env.at("CNI_PATH"), (dir_ / "bin").string());
  auto first = Json::parse(calls_[0].stdinData);
  EXPECT_EQ(first["name"], "net1");
  EXPECT_EQ(first["cniVersion"], "1.1.0");
  EXPECT_FALSE(first.contains("runtimeConfig"));  // bridge declared no capabilities
  EXPECT_FALSE(first.contains("prevResult"));
  auto second = Json::parse(calls_[1].stdinData);
  EXPECT_EQ(second["runtimeConfig"]["portMappings"][0]["hostPort"], 8080);
  EXPECT_FALSE(second["runtimeConfig"].contains("mac"));  // not declared
  EXPECT_EQ(second["prevResult"]["ips"][0]["address"], "10.0.0.2/24");

  auto cache = readFile(dir_ / "cache/results/net1-ctr1-eth0");
  ASSERT_TRUE(cache);
  auto c = Json::parse(*cache);
  EXPECT_EQ(c["kind"], "cniCacheV1");
  EXPECT_EQ(c["containerId"], "ctr1");
  EXPECT_EQ(c["ifName"], "eth0");
  EXPECT_EQ(c["networkName"], "net1");
  EXPECT_EQ(c["result"]["ips"][0]["address"], "10.0.0.2/24");
  EXPECT_EQ(c["cniArgs"][0][0], "K8S_POD_NAME");
  EXPECT_FALSE(c["config"].get<std::string>().empty());

  // CHECK and DEL get the cached result; DEL runs in reverse and drops the cache.
  calls_.clear();
  ASSERT_TRUE(cni.check(list(), rt()));
  EXPECT_EQ(Json::parse(calls_[0].stdinData)["prevResult"]["ips"][0]["address"], "10.0.0.2/24");
  calls_.clear();
  ASSERT_TRUE(cni.del(list(), rt()));
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(fs::path(calls_[0].binary).filename(), "portmap");
  EXPECT_TRUE(Json::parse(calls_[0].stdinData).contains("prevResult"));
  EXPECT_FALSE(fs::exists(dir_ / "cache/results/net1-ctr1-eth0"));
  EXPECT_TRUE(cni.del(list(), rt()));     // again: no cache, still fine
  EXPECT_FALSE(cni.check(list(), rt()));  // nothing cached to check
}

// libcni reads each plugin's configuration and its cache files into Go structs (keys in any
// case) and a list's own keys from a map (exact); capability names are map keys (exact).
TEST_F(LibCniTest, PluginKeysInAnyCaseListKeysExact) {
  auto l = parseConfList(R"({"cniVersion": "1.1.0", "name": "net1", "plugins": [
      {"Type": "bridge", "Name": "ignored"},
      {"TYPE": "portmap", "Capabilities": {"portMappings": true, "PortMappings": true}}]})",
                         "test");
  ASSERT_TRUE(l) << l.error().msg;
  auto cni = runtime();
  RuntimeConf r = rt();
  // containerd's capability args: its PortMapping struct has no JSON tags.
  r.capabilityArgs = Json::parse(R"({"portMappings": [{"HostPort": 18080, "ContainerPort": 80,
      "Protocol": "tcp", "HostIP": "127.0.0.1"}]})");
  ASSERT_TRUE(cni.add(*l, r));
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(fs::path(calls_[1].binary).filename(), "portmap");
  auto second = Json::parse(calls_[1].stdinData);
  EXPECT_EQ(second["runtimeConfig"],
            Json::parse(R"({"portMappings": [{"HostPort": 18080, "ContainerPort": 80,
                "Protocol": "tcp", "HostIP": "127.0.0.1"}]})"));

  // A cache written with other spellings still gives DEL its result and capability args.
  ASSERT_TRUE(writeFile(dir_ / "cache/results/net1-ctr1-eth0",
                        R"({"Kind": "cniCacheV1", "ContainerID": "ctr1", "IfName": "eth0",
                            "NetworkName": "net1", "CapabilityArgs": {"portMappings": [1]},
                            "Result": {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.9/24"}]}})"));
  calls_.clear();
  RuntimeConf noCaps = rt();
  noCaps.capabilityArgs = Json::object();
  ASSERT_TRUE(cni.del(*l, noCaps));
  auto del = Json::parse(calls_[0].stdinData);
  EXPECT_EQ(del["prevResult"]["ips"][0]["address"], "10.0.0.9/24");
  EXPECT_EQ(del["runtimeConfig"]["portMappings"][0], 1);

  // The list's own keys are read from a map by libcni: "Plugins" is not "plugins".
  auto list = parseConfList(R"({"name": "n", "Plugins": [{"type": "bridge"}]})", "f");
  ASSERT_FALSE(list);
  EXPECT_NE(list.error().msg.find("f: plugins: must be a non-empty array"), std::string::npos);
  // A single .conf is one plugin's configuration: any case.
  auto single = parseConfList(R"({"Name": "n", "CNIVersion": "1.0.0", "Type": "bridge"})", "f",
                              /*singleConf=*/true);
  ASSERT_TRUE(single) << single.error().msg;
  EXPECT_EQ(single->name, "n");
  EXPECT_EQ(single->cniVersion, "1.0.0");
}

TEST_F(LibCniTest, FailuresNameThePluginAndCacheNothing) {
  auto cni = runtime();
  failOn_ = "portmap";
  auto r = cni.add(list(), rt());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().msg.find("plugin type=\"portmap\""), std::string::npos) << r.error().msg;
  EXPECT_FALSE(fs::exists(dir_ / "cache/results/net1-ctr1-eth0"));
  auto missing = *parseConfList(R"({"cniVersion": "1.1.0", "name": "n", "plugins":
      [{"type": "nosuchplugin"}]})",
                                "t");
  auto m = cni.add(missing, rt());
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().msg.find("failed to find plugin \"nosuchplugin\""), std::string::npos);
}

// A plugin whose DEL fails does not keep the others from releasing theirs; the failure is
// reported and the cache kept for the retry.
TEST_F(LibCniTest, DelRunsEveryPluginAndReportsTheFirstFailure) {
  auto cni = runtime();
  ASSERT_TRUE(cni.add(list(), rt()));
  calls_.clear();
  failOn_ = "portmap";
  auto del = cni.del(list(), rt());
  ASSERT_FALSE(del);
  EXPECT_NE(del.error().msg.find("plugin type=\"portmap\""), std::string::npos) << del.error().msg;
  ASSERT_EQ(calls_.size(), 2u);
  EXPECT_EQ(fs::path(calls_[1].binary).filename(), "bridge");
  EXPECT_TRUE(fs::exists(dir_ / "cache/results/net1-ctr1-eth0"));
  failOn_.clear();
  ASSERT_TRUE(cni.del(list(), rt()));
  EXPECT_FALSE(fs::exists(dir_ / "cache/results/net1-ctr1-eth0"));
}

TEST_F(LibCniTest, APluginThatHangsIsKilledAtTheTimeout) {
  ASSERT_TRUE(writeFile(dir_ / "bin/bridge", "#!/bin/sh\nexec sleep 30\n", 0755));
  CniRuntime::Options o;
  o.binDirs = {(dir_ / "bin").string()};
  o.cacheDir = dir_ / "cache";
  o.timeout = std::chrono::milliseconds(200);
  CniRuntime cni(o);
  auto r = cni.add(list(), rt());
  ASSERT_FALSE(r);
  // Killed by the timeout, not waited out: the error says so (a test never times itself).
  EXPECT_NE(r.error().msg.find("did not exit within 200ms"), std::string::npos) << r.error().msg;
  EXPECT_NE(r.error().msg.find("plugin type=\"bridge\""), std::string::npos) << r.error().msg;
}

TEST_F(LibCniTest, RealExecPassesEnvironmentAndStdin) {
  // A plugin that answers with what it was given.
  ASSERT_TRUE(writeFile(dir_ / "bin/bridge",
                        "#!/bin/sh\nread -r conf\nprintf '{\"cniVersion\": \"1.1.0\", "
                        "\"dns\": {\"domain\": \"%s-%s-%s\"}}' \"$CNI_COMMAND\" "
                        "\"$CNI_CONTAINERID\" \"$CNI_IFNAME\"\n",
                        0755));
  CniRuntime::Options o;
  o.binDirs = {(dir_ / "bin").string()};
  o.cacheDir = dir_ / "cache";
  CniRuntime cni(o);
  auto single =
      *parseConfList(R"({"cniVersion": "1.1.0", "name": "n", "type": "bridge"})", "t", true);
  auto r = cni.add(single, rt());
  ASSERT_TRUE(r) << r.error().msg;
  EXPECT_EQ(r->dns.domain, "ADD-ctr1-eth0");
}

TEST_F(LibCniTest, GcDeletesStaleAttachmentsAndPassesTheValidOnes) {
  auto cni = runtime();
  auto keep = rt();
  auto stale = rt();
  stale.containerID = "gone";
  ASSERT_TRUE(cni.add(list(), keep));
  ASSERT_TRUE(cni.add(list(), stale));
  calls_.clear();
  ASSERT_TRUE(cni.gc(list(), {{"ctr1", "eth0"}}));
  EXPECT_FALSE(fs::exists(dir_ / "cache/results/net1-gone-eth0"));
  EXPECT_TRUE(fs::exists(dir_ / "cache/results/net1-ctr1-eth0"));
  // Two DELs for the stale one, then GC to both plugins with the valid list.
  ASSERT_EQ(calls_.size(), 4u);
  EXPECT_EQ(calls_[0].env.at("CNI_COMMAND"), "DEL");
  EXPECT_EQ(calls_[0].env.at("CNI_CONTAINERID"), "gone");
  EXPECT_EQ(calls_[2].env.at("CNI_COMMAND"), "GC");
  auto gcConf = Json::parse(calls_[2].stdinData);
  EXPECT_EQ(gcConf["cni.dev/valid-attachments"][0]["containerID"], "ctr1");
  calls_.clear();
  ASSERT_TRUE(cni.status(list()));
  EXPECT_EQ(calls_.size(), 2u);
}

}  // namespace
}  // namespace berth::cni
