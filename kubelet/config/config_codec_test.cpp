#include "kubelet/config/config_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::kubelet {
namespace {

const std::string kHeader =
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

Result<KubeletConfiguration> decodeBody(const std::string& body) {
  return decodeKubeletConfiguration(kHeader + body);
}

TEST(KubeletConfigDefaults, EmptyFileGivesV1beta1Defaults) {
  auto c = decodeBody("");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->address, "0.0.0.0");
  EXPECT_EQ(c->port, 10250);
  EXPECT_EQ(c->readOnlyPort, 0);
  EXPECT_EQ(c->healthzBindAddress, "127.0.0.1");
  EXPECT_EQ(c->healthzPort, 10248);
  EXPECT_EQ(c->nodeStatusUpdateFrequency, 10s);
  EXPECT_EQ(c->nodeStatusReportFrequency, 5min);
  EXPECT_EQ(c->nodeLeaseDurationSeconds, 40);
  EXPECT_EQ(c->imageGCHighThresholdPercent, 85);
  EXPECT_EQ(c->imageGCLowThresholdPercent, 80);
  EXPECT_TRUE(c->cgroupsPerQOS);
  EXPECT_EQ(c->cgroupDriver, "cgroupfs");
  EXPECT_EQ(c->runtimeRequestTimeout, 2min);
  EXPECT_EQ(c->maxPods, 110);
  EXPECT_EQ(c->podPidsLimit, -1);
  EXPECT_EQ(c->resolvConf, "/etc/resolv.conf");
  EXPECT_EQ(c->kubeAPIQPS, 50);
  EXPECT_EQ(c->kubeAPIBurst, 100);
  EXPECT_FALSE(c->serializeImagePulls);  // berth: parallel pulls
  EXPECT_EQ(c->containerLogMaxSize, "10Mi");
  EXPECT_EQ(c->containerLogMaxFiles, 5);
  EXPECT_TRUE(c->registerNode);
  EXPECT_EQ(c->containerRuntimeEndpoint, "unix:///run/berth/cri.sock");
  EXPECT_EQ(c->authorization.mode, "Webhook");
  EXPECT_TRUE(c->authentication.webhook.enabled);
  EXPECT_FALSE(c->authentication.anonymous.enabled);
  EXPECT_EQ(c->authentication.webhook.cacheTTL, 2min);
  EXPECT_EQ(c->evictionHard.size(), 4u);
  EXPECT_EQ(c->evictionHard.at("memory.available"), "100Mi");
  EXPECT_EQ(c->evictionHard.at("imagefs.available"), "15%");
  EXPECT_EQ(c->enforceNodeAllocatable, std::vector<std::string>{"pods"});
  EXPECT_EQ(c->cpuCFSQuotaPeriod, 100ms);
}

TEST(KubeletConfigDefaults, ZeroMeansDefaultOnlyForNonPointerFields) {
  auto c = decodeBody(
      "port: 0\nsyncFrequency: 0s\nhealthzPort: 0\nresolvConf: \"\"\n"
      "evictionHard: {}\nenforceNodeAllocatable: []\npodPidsLimit: -7\n");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->port, 10250);
  EXPECT_EQ(c->syncFrequency, 1min);
  EXPECT_EQ(c->healthzPort, 0);  // *int32 upstream: explicit 0 disables
  EXPECT_EQ(c->resolvConf, "");
  EXPECT_TRUE(c->evictionHard.empty());
  EXPECT_TRUE(c->enforceNodeAllocatable.empty());
  EXPECT_EQ(c->podPidsLimit, -1);
}

TEST(KubeletConfigDefaults, ReportFrequencyFollowsExplicitUpdateFrequency) {
  struct Case {
    std::string body;
    Duration update, report;
  } cases[] = {
      {"nodeStatusUpdateFrequency: 20s\n", 20s, 20s},
      {"nodeStatusUpdateFrequency: 10s\n", 10s, 10s},
      {"nodeStatusUpdateFrequency: 20s\nnodeStatusReportFrequency: 1m\n", 20s, 1min},
      {"nodeStatusUpdateFrequency: 0s\n", 10s, 5min},
  };
  for (const auto& tc : cases) {
    auto c = decodeBody(tc.body);
    ASSERT_TRUE(c) << tc.body;
    EXPECT_EQ(c->nodeStatusUpdateFrequency, tc.update) << tc.body;
    EXPECT_EQ(c->nodeStatusReportFrequency, tc.report) << tc.body;
  }
}

TEST(KubeletConfigParse, EachKindOfField) {
  auto c = decodeBody(R"(address: 127.0.0.1
port: 11250
staticPodPath: /etc/kubernetes/manifests
syncFrequency: 1m30s
failSwapOn: false
clusterDNS: [10.96.0.10, "fd00::a"]
clusterDomain: cluster.local
evictionHard:
  memory.available: 200Mi
featureGates: {GracefulNodeShutdown: true}
maxParallelImagePulls: 3
podPidsLimit: 4096
memoryThrottlingFactor: 0.7
authentication:
  x509: {clientCAFile: /etc/ca.crt}
  webhook: {enabled: false, cacheTTL: 1m}
  anonymous: {enabled: true}
authorization: {mode: AlwaysAllow}
registerWithTaints:
- {key: dedicated, value: gpu, effect: NoSchedule}
logging: {verbosity: 4}
systemReserved: {memory: 1Gi, cpu: 500m}
)");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->address, "127.0.0.1");
  EXPECT_EQ(c->port, 11250);
  EXPECT_EQ(c->staticPodPath, "/etc/kubernetes/manifests");
  EXPECT_EQ(c->syncFrequency, 90s);
  EXPECT_FALSE(c->failSwapOn);
  EXPECT_EQ(c->clusterDNS, (std::vector<std::string>{"10.96.0.10", "fd00::a"}));
  EXPECT_EQ(c->evictionHard, (std::map<std::string, std::string>{{"memory.available", "200Mi"}}));
  EXPECT_TRUE(c->featureGates.at("GracefulNodeShutdown"));
  EXPECT_EQ(c->maxParallelImagePulls, 3);
  EXPECT_EQ(c->podPidsLimit, 4096);
  EXPECT_DOUBLE_EQ(c->memoryThrottlingFactor, 0.7);
  EXPECT_EQ(c->authentication.x509.clientCAFile, "/etc/ca.crt");
  EXPECT_FALSE(c->authentication.webhook.enabled);
  EXPECT_EQ(c->authentication.webhook.cacheTTL, 1min);
  EXPECT_TRUE(c->authentication.anonymous.enabled);
  EXPECT_EQ(c->authorization.mode, "AlwaysAllow");
  EXPECT_EQ(c->authorization.webhook.cacheAuthorizedTTL, 5min);
  ASSERT_EQ(c->registerWithTaints.size(), 1u);
  EXPECT_EQ(c->registerWithTaints[0], (Taint{"dedicated", "gpu", "NoSchedule", ""}));
  EXPECT_EQ(c->logging.verbosity, 4);
  EXPECT_EQ(c->logging.format, "text");
  EXPECT_EQ(c->systemReserved.at("cpu"), "500m");
}

TEST(KubeletConfigParse, JsonFile) {
  auto c = decodeKubeletConfiguration(
      R"({"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration",
          "maxPods": 50, "cgroupDriver": "systemd"})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->maxPods, 50);
  EXPECT_EQ(c->cgroupDriver, "systemd");
}

TEST(KubeletConfigParse, ErrorsNameTheField) {
  struct Case {
    std::string text;
    std::string error;
  } cases[] = {
      {kHeader + "evictionHardd: {}\n", "unknown field \"evictionHardd\""},
      {kHeader + "authentication:\n  webhook:\n    enabledd: true\n",
       "unknown field \"authentication.webhook.enabledd\""},
      {kHeader + "MaxPods: 3\n", "unknown field \"MaxPods\""},  // case-sensitive, as upstream
      {kHeader + "nodeStatusUpdateFrequency: \"10\"\n",
       "nodeStatusUpdateFrequency: invalid duration \"10\": time: missing unit in duration"},
      {kHeader + "nodeStatusUpdateFrequency: 10\n",
       "nodeStatusUpdateFrequency: must be a duration string"},
      {kHeader + "maxPods: \"110\"\n", "maxPods: must be an integer, not string"},
      {kHeader + "maxPods: 1.5\n", "maxPods: must be an integer"},
      {kHeader + "port: 99999999999\n", "port: 99999999999 is out of range for a 32-bit integer"},
      {kHeader + "failSwapOn: maybe\n", "failSwapOn: must be a boolean"},
      {kHeader + "clusterDNS: 10.0.0.10\n", "clusterDNS: must be a list"},
      {kHeader + "clusterDNS: [1, 2]\n", "clusterDNS[0]: must be a string"},
      {kHeader + "evictionHard: {memory.available: 5}\n",
       "evictionHard[memory.available]: must be a string"},
      {kHeader + "registerWithTaints: [{key: a, effet: NoSchedule}]\n",
       "unknown field \"registerWithTaints[0].effet\""},
      {kHeader + "maxPods: 1\nmaxPods: 2\n", "duplicate field \"maxPods\""},
      {"kind: KubeletConfiguration\n", "apiVersion: missing"},
      {"apiVersion: kubelet.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n",
       "apiVersion: must be kubelet.config.k8s.io/v1beta1"},
      {"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n",
       "kind: must be KubeletConfiguration"},
      {"", "must be a mapping"},
      {kHeader + "port: [\n", "invalid YAML"},
  };
  for (const auto& tc : cases) {
    auto c = decodeKubeletConfiguration(tc.text);
    ASSERT_FALSE(c) << tc.text;
    EXPECT_NE(c.error().message().find(tc.error), std::string::npos)
        << tc.text << " -> " << c.error().message();
  }
}

TEST(KubeletConfigParse, FileErrorsArePrefixedWithThePath) {
  auto c = loadKubeletConfigFile("/nonexistent/kubelet.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("/nonexistent/kubelet.yaml"), std::string::npos);
}

TEST(KubeletConfigz, RoundTripsThroughTheParser) {
  auto c = decodeBody(R"(port: 11250
evictionHard: {}
maxParallelImagePulls: 4
registerWithTaints: [{key: a, value: b, effect: NoExecute}]
shutdownGracePeriod: 30s
featureGates: {Foo: false}
resolvConf: ""
)");
  ASSERT_TRUE(c) << c.error().message();
  nlohmann::json configz = configzJson(*c);
  const nlohmann::json& body = configz.at("kubeletconfig");
  EXPECT_EQ(body.at("kind"), "KubeletConfiguration");
  EXPECT_EQ(body.at("shutdownGracePeriod"), "30s");
  EXPECT_EQ(body.at("nodeStatusReportFrequency"), "5m0s");
  EXPECT_EQ(body.at("authentication").at("webhook").at("cacheTTL"), "2m0s");
  auto back = decodeKubeletConfiguration(body.dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(toJson(*back), body);
  // And the defaults alone.
  auto defaults = decodeKubeletConfiguration(toJson(KubeletConfiguration{}).dump());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(toJson(*defaults), toJson(KubeletConfiguration{}));
  EXPECT_FALSE(toJson(KubeletConfiguration{}).contains("maxParallelImagePulls"));  // nil pointer
}

TEST(KubeletConfigFlagText, SetsFieldsAsPflagParses) {
  KubeletConfiguration c;
  ASSERT_TRUE(setFieldFromText(c, "maxPods", "20", MapSyntax::kEquals, true));
  EXPECT_EQ(c.maxPods, 20);
  ASSERT_TRUE(
      setFieldFromText(c, "authentication.anonymous.enabled", "T", MapSyntax::kEquals, true));
  EXPECT_TRUE(c.authentication.anonymous.enabled);
  ASSERT_TRUE(setFieldFromText(c, "evictionHard", "memory.available<1Gi, nodefs.available<5%",
                               MapSyntax::kLangle, true));
  EXPECT_EQ(c.evictionHard, (std::map<std::string, std::string>{{"memory.available", "1Gi"},
                                                                {"nodefs.available", "5%"}}));
  ASSERT_TRUE(setFieldFromText(c, "clusterDNS", "10.0.0.10", MapSyntax::kEquals, true));
  ASSERT_TRUE(setFieldFromText(c, "clusterDNS", "fd00::a", MapSyntax::kEquals, false));
  EXPECT_EQ(c.clusterDNS, (std::vector<std::string>{"10.0.0.10", "fd00::a"}));
  ASSERT_TRUE(setFieldFromText(c, "featureGates", "A=true,B=false", MapSyntax::kEquals, true));
  EXPECT_EQ(c.featureGates, (std::map<std::string, bool>{{"A", true}, {"B", false}}));
  EXPECT_FALSE(setFieldFromText(c, "maxPods", "lots", MapSyntax::kEquals, true));
  EXPECT_FALSE(
      setFieldFromText(c, "evictionHard", "memory.available=1Gi", MapSyntax::kLangle, true));
  EXPECT_FALSE(setFieldFromText(c, "runtimeRequestTimeout", "10", MapSyntax::kEquals, true));
  EXPECT_EQ(fieldKind("failSwapOn"), FieldKind::kBool);
  EXPECT_EQ(fieldKind("authentication.webhook.enabled"), FieldKind::kBool);
  EXPECT_EQ(fieldKind("maxPods"), FieldKind::kOther);
  EXPECT_EQ(fieldKind("nope"), FieldKind::kMissing);
}

}  // namespace
}  // namespace berth::kubelet
