#include "kubelet/config/kubelet_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/temp_dir_for_test.h"

namespace berth::kubelet {
namespace {

Result<std::optional<LoadedConfig>> load(std::vector<std::string> args) {
  args.insert(args.begin(), "berth-kubelet");
  return loadKubeletConfig(std::move(args));
}

LoadedConfig loadOk(std::vector<std::string> args) {
  auto r = load(args);
  EXPECT_TRUE(r) << r.error().message();
  if (!r || !*r) return {};
  return **r;
}

std::string loadError(std::vector<std::string> args) {
  auto r = load(args);
  EXPECT_FALSE(r);
  return r ? "" : r.error().message();
}

class KubeletOptionsTest : public ::testing::Test {
 protected:
  std::string writeConfig(const std::string& body) {
    std::string path = dir_.path() / "kubelet.yaml";
    std::ofstream(path) << "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                        << body;
    return path;
  }
  testing::TempDir dir_{"kcfg"};
};

TEST_F(KubeletOptionsTest, NoConfigFileGivesLegacyFlagDefaults) {
  LoadedConfig l = loadOk({});
  EXPECT_TRUE(l.config.authentication.anonymous.enabled);
  EXPECT_FALSE(l.config.authentication.webhook.enabled);
  EXPECT_EQ(l.config.authorization.mode, "AlwaysAllow");
  EXPECT_EQ(l.config.readOnlyPort, 10255);
  EXPECT_EQ(l.flags.rootDirectory, "/var/lib/berth/kubelet");
  EXPECT_EQ(l.flags.certDirectory, "/var/lib/berth/kubelet/pki");
}

TEST_F(KubeletOptionsTest, ConfigFileGivesV1beta1Defaults) {
  LoadedConfig l = loadOk({"--config", writeConfig("")});
  EXPECT_FALSE(l.config.authentication.anonymous.enabled);
  EXPECT_EQ(l.config.authorization.mode, "Webhook");
  EXPECT_EQ(l.config.readOnlyPort, 0);
}

TEST_F(KubeletOptionsTest, FlagsOverrideTheFile) {
  std::string path = writeConfig(
      "maxPods: 50\nfailSwapOn: true\nclusterDNS: [10.0.0.10]\nevictionHard: {memory.available: "
      "1Gi}\n"
      "cgroupDriver: systemd\nimageGCHighThresholdPercent: 90\n");
  LoadedConfig l = loadOk({"--config=" + path, "--max-pods", "30", "--fail-swap-on=false",
                           "--cluster-dns=10.0.0.53,fd00::53",
                           "--eviction-hard=nodefs.available<20%", "--image-gc-low-threshold=70",
                           "--anonymous-auth", "--v=3", "--runtime-request-timeout=5m",
                           "--container-runtime-endpoint", "unix:///run/other.sock"});
  EXPECT_EQ(l.config.maxPods, 30);
  EXPECT_FALSE(l.config.failSwapOn);
  EXPECT_EQ(l.config.clusterDNS, (std::vector<std::string>{"10.0.0.53", "fd00::53"}));
  EXPECT_EQ(l.config.evictionHard,
            (std::map<std::string, std::string>{{"nodefs.available", "20%"}}));
  EXPECT_EQ(l.config.cgroupDriver, "systemd");  // from the file
  EXPECT_EQ(l.config.imageGCHighThresholdPercent, 90);
  EXPECT_EQ(l.config.imageGCLowThresholdPercent, 70);
  EXPECT_TRUE(l.config.authentication.anonymous.enabled);
  EXPECT_EQ(l.config.logging.verbosity, 3);
  EXPECT_EQ(l.config.runtimeRequestTimeout, 5min);
  EXPECT_EQ(l.config.containerRuntimeEndpoint, "unix:///run/other.sock");
}

TEST_F(KubeletOptionsTest, RepeatedMapFlagsAccumulate) {
  LoadedConfig l = loadOk({"--feature-gates=A=true", "--feature-gates", "B=false",
                           "--node-labels=a=1,b=2", "--node-labels", "c=3"});
  EXPECT_EQ(l.config.featureGates, (std::map<std::string, bool>{{"A", true}, {"B", false}}));
  EXPECT_EQ(l.flags.nodeLabels,
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

TEST_F(KubeletOptionsTest, Taints) {
  LoadedConfig l =
      loadOk({"--register-with-taints=dedicated=gpu:NoSchedule,spot:PreferNoSchedule"});
  ASSERT_EQ(l.config.registerWithTaints.size(), 2u);
  EXPECT_EQ(l.config.registerWithTaints[0], (Taint{"dedicated", "gpu", "NoSchedule", ""}));
  EXPECT_EQ(l.config.registerWithTaints[1], (Taint{"spot", "", "PreferNoSchedule", ""}));
  EXPECT_NE(loadError({"--register-with-taints=a=b:Never"}).find("invalid taint effect: Never"),
            std::string::npos);
  EXPECT_NE(loadError({"--register-with-taints=a=b=c:NoSchedule"}).find("invalid taint spec"),
            std::string::npos);
}

TEST_F(KubeletOptionsTest, NodeLabels) {
  EXPECT_EQ(loadOk({"--node-labels=node.kubernetes.io/role=edge,kubernetes.io/os=linux"})
                .flags.nodeLabels.size(),
            2u);
  EXPECT_NE(loadError({"--node-labels=node-role.kubernetes.io/master="})
                .find("unknown 'kubernetes.io' or 'k8s.io' labels specified: "
                      "node-role.kubernetes.io/master"),
            std::string::npos);
  EXPECT_NE(loadError({"--node-labels=bad key=1"}).find("--node-labels: invalid node labels"),
            std::string::npos);
  EXPECT_NE(loadError({"--node-labels=novalue"}).find("malformed pair, expect string=string"),
            std::string::npos);
}

TEST_F(KubeletOptionsTest, NodeIP) {
  struct Case {
    std::string arg;
    std::vector<std::string> ips;  // empty: an error
    std::string error;
  } cases[] = {
      {"10.0.0.5", {"10.0.0.5"}, ""},
      {"10.0.0.5,fd00::5", {"10.0.0.5", "fd00::5"}, ""},
      {"fd00::5, 10.0.0.5", {"fd00::5", "10.0.0.5"}, ""},
      {"0.0.0.0", {"0.0.0.0"}, ""},
      {"10.0.0.5,10.0.0.6", {}, "must contain either a single IP or a dual-stack pair of IPs"},
      {"10.0.0.5,fd00::5,10.0.0.6", {}, "must contain either a single IP or a dual-stack pair"},
      {"0.0.0.0,fd00::5", {}, "cannot include '0.0.0.0' or '::'"},
      {"10.0.0", {}, "--node-ip: could not parse \"10.0.0\""},
  };
  for (const auto& tc : cases) {
    auto r = load({"--node-ip=" + tc.arg});
    if (tc.ips.empty()) {
      ASSERT_FALSE(r) << tc.arg;
      EXPECT_NE(r.error().message().find(tc.error), std::string::npos) << r.error().message();
      continue;
    }
    ASSERT_TRUE(r && *r) << tc.arg;
    std::vector<std::string> got;
    for (const IpAddr& ip : (*r)->flags.nodeIPs)
      got.push_back(ip.str());
    EXPECT_EQ(got, tc.ips) << tc.arg;
  }
}

TEST_F(KubeletOptionsTest, UsageErrorsNameTheFlag) {
  EXPECT_EQ(loadError({"--max-podz=3"}), "unknown flag: --max-podz");
  EXPECT_EQ(loadError({"--fail-swap-on", "false"}), "unknown command \"false\"");
  EXPECT_NE(
      loadError({"--max-pods=many"}).find("invalid argument \"many\" for \"--max-pods\" flag"),
      std::string::npos);
  EXPECT_NE(
      loadError({"--sync-frequency=10"}).find("\"--sync-frequency\" flag: time: missing unit"),
      std::string::npos);
  EXPECT_NE(loadError({"--healthz-port=70000"}).find("healthzPort (--healthz-port): 70000"),
            std::string::npos);
  EXPECT_NE(loadError({"--cloud-provider=aws"}).find("--cloud-provider"), std::string::npos);
}

TEST_F(KubeletOptionsTest, ConfigFileErrorsStopTheStart) {
  std::string path = writeConfig("evictionHardd: {}\n");
  EXPECT_EQ(loadError({"--config", path}), path + ": unknown field \"evictionHardd\"");
  path = writeConfig("nodeStatusUpdateFrequency: \"10\"\n");
  EXPECT_NE(loadError({"--config", path})
                .find(path + ": nodeStatusUpdateFrequency: invalid duration \"10\""),
            std::string::npos);
  path = writeConfig("imageGCLowThresholdPercent: 90\n");
  EXPECT_NE(loadError({"--config", path}).find("imageGCLowThresholdPercent"), std::string::npos);
}

TEST_F(KubeletOptionsTest, HelpListsTheFlags) {
  ::testing::internal::CaptureStdout();
  auto r = load({"--help"});
  std::string out = ::testing::internal::GetCapturedStdout();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);  // exit 0
  for (const char* flag : {"--config", "--kubeconfig", "--node-ip", "--root-dir", "--eviction-hard",
                           "--container-runtime-endpoint", "--max-pods", "--v"})
    EXPECT_NE(out.find(flag), std::string::npos) << flag;
}

TEST_F(KubeletOptionsTest, EveryConfigFlagNamesAField) {
  for (const ConfigFlag& flag : configFlags())
    EXPECT_NE(fieldKind(flag.fieldPath), FieldKind::kMissing) << flag.name;
}

}  // namespace
}  // namespace berth::kubelet
