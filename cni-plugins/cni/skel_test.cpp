#include "cni-plugins/cni/skel.h"

#include <map>

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

class SkelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"CNI_COMMAND", "ADD"},
            {"CNI_CONTAINERID", "ctr1"},
            {"CNI_NETNS", "/run/netns/x"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/opt/cni/bin"}};
    plugin_.add = [this](const CmdArgs& a) -> CniResult<PluginResult> {
      seen_ = a;
      PluginResult r;
      r.ips.push_back({*IpNet::parse("10.0.0.2/24"), IpAddr::parse("10.0.0.1"), 0});
      r.interfaces.push_back({"eth0", "aa:aa:aa:aa:aa:aa", 1500, a.netns, "", ""});
      return r;
    };
    plugin_.del = [this](const CmdArgs& a) -> CniStatus {
      seen_ = a;
      return {};
    };
    plugin_.check = [](const CmdArgs&) -> CniStatus {
      return cniFail(kInternal, "eth0 has no address");
    };
  }
  SkelOutput run(std::string_view stdinData) {
    return runSkel(
        plugin_,
        [this](const char* n) -> std::optional<std::string> {
          auto it = env_.find(n);
          if (it == env_.end()) return std::nullopt;
          return it->second;
        },
        stdinData);
  }
  Json runError(std::string_view stdinData) {
    auto out = run(stdinData);
    EXPECT_EQ(out.exitCode, 1);
    return Json::parse(out.stdoutData);
  }

  std::map<std::string, std::string> env_;
  Plugin plugin_;
  CmdArgs seen_;
};

constexpr std::string_view kConf = R"({"cniVersion": "1.1.0", "name": "n", "type": "t"})";

TEST_F(SkelTest, AddWritesResultInConfigVersion) {
  auto out = run(kConf);
  ASSERT_EQ(out.exitCode, 0) << out.stdoutData;
  auto j = Json::parse(out.stdoutData);
  EXPECT_EQ(j["cniVersion"], "1.1.0");
  EXPECT_EQ(j["interfaces"][0]["mtu"], 1500);
  EXPECT_EQ(seen_.containerId, "ctr1");
  EXPECT_EQ(seen_.conf.name, "n");

  out = run(R"({"cniVersion": "0.3.1", "name": "n", "type": "t"})");
  j = Json::parse(out.stdoutData);
  EXPECT_EQ(j["cniVersion"], "0.3.1");
  EXPECT_EQ(j["ips"][0]["version"], "4");
}

TEST_F(SkelTest, Version) {
  env_ = {{"CNI_COMMAND", "VERSION"}};
  auto out = run(R"({"cniVersion": "1.0.0"})");
  ASSERT_EQ(out.exitCode, 0);
  auto j = Json::parse(out.stdoutData);
  EXPECT_EQ(j["cniVersion"], "1.0.0");
  EXPECT_EQ(j["supportedVersions"].size(), 7u);
  EXPECT_EQ(j["supportedVersions"].back(), "1.1.0");
  // The reference skel decodes it into a Go struct: any case.
  EXPECT_EQ(Json::parse(run(R"({"CNIVersion": "0.4.0"})").stdoutData)["cniVersion"], "0.4.0");
}

// DEL parses leniently: a runtimeConfig or prevResult that ADD would refuse is left out (and
// noted), so the plugin still releases what it can find; other commands refuse it.
TEST_F(SkelTest, DelGoesThroughWithPartsThatDoNotParse) {
  constexpr std::string_view bad = R"({"cniVersion": "1.1.0", "name": "n", "type": "t",
      "runtimeConfig": {"portMappings": [{"containerPort": 80}]},
      "prevResult": {"ips": [{"address": "nope"}]}})";
  env_["CNI_COMMAND"] = "DEL";
  auto out = run(bad);
  ASSERT_EQ(out.exitCode, 0) << out.stdoutData;
  EXPECT_EQ(seen_.conf.name, "n");
  EXPECT_TRUE(seen_.conf.runtimeConfig.portMappings.empty());
  EXPECT_FALSE(seen_.conf.prevResult);
  ASSERT_EQ(seen_.conf.ignored.size(), 2u);
  EXPECT_NE(seen_.conf.ignored[0].find("runtimeConfig.portMappings[0].hostPort: required"),
            std::string::npos);
  EXPECT_NE(seen_.conf.ignored[1].find("prevResult: result.ips[0].address"), std::string::npos);
  env_["CNI_COMMAND"] = "ADD";
  EXPECT_EQ(runError(bad)["code"], kInvalidNetworkConfig);
  env_["CNI_COMMAND"] = "DEL";
  EXPECT_EQ(runError("{not json")["code"], kDecodeFailure);  // nothing to go by
}

TEST_F(SkelTest, MissingEnvironmentIsCode4NamingTheVariables) {
  env_.erase("CNI_NETNS");
  env_.erase("CNI_PATH");
  auto j = runError(kConf);
  EXPECT_EQ(j["code"], 4);
  EXPECT_EQ(j["msg"], "required env variables [CNI_NETNS,CNI_PATH] missing");
  EXPECT_EQ(j["cniVersion"], "1.1.0");
  // DEL does not need CNI_NETNS.
  env_["CNI_COMMAND"] = "DEL";
  env_["CNI_PATH"] = "/p";
  EXPECT_EQ(run(kConf).exitCode, 0);
}

TEST_F(SkelTest, BadNamesAndCommands) {
  env_["CNI_CONTAINERID"] = "../x";
  EXPECT_EQ(runError(kConf)["code"], 4);
  env_["CNI_CONTAINERID"] = "ok";
  env_["CNI_IFNAME"] = "this-name-is-too-long";
  EXPECT_EQ(runError(kConf)["code"], 4);
  env_["CNI_COMMAND"] = "FROB";
  auto j = runError(kConf);
  EXPECT_EQ(j["code"], 4);
  EXPECT_EQ(j["msg"], "unknown CNI_COMMAND: FROB");
}

TEST_F(SkelTest, IncompatibleVersionIsCode1) {
  auto j = runError(R"({"cniVersion": "2.0.0", "type": "t"})");
  EXPECT_EQ(j["code"], 1);
  EXPECT_NE(j["msg"].get<std::string>().find("config is \"2.0.0\""), std::string::npos);
  // CHECK needs 0.4.0, STATUS and GC 1.1.0.
  env_["CNI_COMMAND"] = "CHECK";
  EXPECT_EQ(runError(R"({"cniVersion": "0.3.1", "type": "t"})")["code"], 1);
  env_["CNI_COMMAND"] = "STATUS";
  EXPECT_EQ(runError(R"({"cniVersion": "1.0.0", "type": "t"})")["code"], 1);
  EXPECT_EQ(run(kConf).exitCode, 0);
}

TEST_F(SkelTest, PluginErrorsAndBadConfig) {
  env_["CNI_COMMAND"] = "CHECK";
  auto j = runError(kConf);
  EXPECT_EQ(j["code"], 100);
  EXPECT_EQ(j["msg"], "eth0 has no address");
  env_["CNI_COMMAND"] = "ADD";
  j = runError("{");
  EXPECT_EQ(j["code"], 6);
  j = runError(R"({"cniVersion": "1.0.0", "name": "n"})");
  EXPECT_EQ(j["code"], 7);
  EXPECT_EQ(j["msg"], "type: required");
}

TEST_F(SkelTest, NoCommandPrintsAboutAndSucceeds) {
  env_.clear();
  plugin_.about = "berth test plugin";
  auto out = run("");
  EXPECT_EQ(out.exitCode, 0);
  EXPECT_EQ(out.stdoutData, "");
}

}  // namespace
}  // namespace berth::cni
