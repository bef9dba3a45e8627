#include "proxy/proxy_options.h"

#include <gtest/gtest.h>

#include "common/temp_dir_for_test.h"

namespace berth::proxy {
namespace {

constexpr const char* kHeader =
    "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

TEST(KubeProxyConfiguration, TheFieldsThatApplyAreRead) {
  ProxyOptions o;
  ASSERT_TRUE(decodeKubeProxyConfiguration(std::string(kHeader) + R"(
clientConnection: {kubeconfig: /etc/berth/proxy.kubeconfig, qps: 20, burst: 40}
hostnameOverride: node-1
clusterCIDR: 10.244.0.0/16,fd00:10::/56
nodePortAddresses: [192.168.0.0/16, primary]
healthzBindAddress: 127.0.0.1:20256
metricsBindAddress: ""
mode: nftables
configSyncPeriod: 5m
nftables: {masqueradeAll: true, masqueradeBit: 15, syncPeriod: 1m, minSyncPeriod: 250ms}
conntrack: {maxPerCore: 0}
)",
                                           o));
  EXPECT_EQ(o.kubeconfig, "/etc/berth/proxy.kubeconfig");
  EXPECT_EQ(o.apiQps, 20);
  EXPECT_EQ(o.apiBurst, 40);
  EXPECT_EQ(o.hostnameOverride, "node-1");
  ASSERT_EQ(o.clusterCidrs.size(), 2u);
  EXPECT_EQ(o.nodePortAddresses, (std::vector<std::string>{"192.168.0.0/16", "primary"}));
  EXPECT_EQ(o.healthzBindAddress, "127.0.0.1:20256");
  EXPECT_EQ(o.metricsBindAddress, "");
  EXPECT_EQ(o.configSyncPeriod, std::chrono::minutes(5));
  EXPECT_TRUE(o.masqueradeAll);
  EXPECT_EQ(o.masqueradeBit, 15);
  EXPECT_EQ(o.syncPeriod, std::chrono::minutes(1));
  EXPECT_EQ(o.minSyncPeriod, std::chrono::milliseconds(250));
}

TEST(KubeProxyConfiguration, ErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string wantInMessage;
  };
  for (const Case& c : std::vector<Case>{
           {"mode: iptables\n", "mode: proxy mode \"iptables\" is not supported"},
           {"nftables: {minSyncPeriod: soon}\n", "nftables.minSyncPeriod: invalid duration"},
           {"nftables: {masqueradeBitt: 3}\n", "nftables.masqueradeBitt: unknown key"},
           {"healthzBindAdress: 127.0.0.1:1\n", "healthzBindAdress: unknown key"},
           {"clusterCIDR: 10.0.0.0/33\n", "clusterCIDR: invalid CIDR \"10.0.0.0/33\""},
           {"nodePortAddresses: [lo]\n", "nodePortAddresses: invalid CIDR \"lo\""},
           {"clientConnection: {qps: fast}\n", "clientConnection.qps: must be a number"},
       }) {
    ProxyOptions o;
    Status st = decodeKubeProxyConfiguration(std::string(kHeader) + c.body, o);
    ASSERT_FALSE(st) << c.body;
    EXPECT_NE(st.error().message().find(c.wantInMessage), std::string::npos)
        << st.error().message();
  }
  ProxyOptions o;
  Status st = decodeKubeProxyConfiguration("apiVersion: v1\nkind: Pod\n", o);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("apiVersion/kind"), std::string::npos);
}

TEST(ProxyFlags, FlagsOverrideTheFileAndBadOnesAreNamed) {
  testing::TempDir dir("proxy-options");
  std::string path = (dir.path() / "proxy.yaml").string();
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs((std::string(kHeader) + "hostnameOverride: from-file\nmasqueradeAll: false\n"
                                       "metricsBindAddress: 127.0.0.1:1\n")
                   .c_str(),
               f);
    std::fclose(f);
  }
  auto o = loadProxyOptions({"berth-proxy", "--config", path, "--hostname-override=from-flag",
                             "--masquerade-all", "--min-sync-period=100ms"});
  ASSERT_TRUE(o) << o.error().message();
  ASSERT_TRUE(*o);
  EXPECT_EQ((*o)->hostnameOverride, "from-flag");
  EXPECT_TRUE((*o)->masqueradeAll);
  EXPECT_EQ((*o)->metricsBindAddress, "127.0.0.1:1");
  EXPECT_EQ((*o)->minSyncPeriod, std::chrono::milliseconds(100));
  EXPECT_EQ((*o)->healthzBindAddress, "127.0.0.1:10256") << "our default binds loopback";

  auto off = loadProxyOptions({"berth-proxy", "--metrics-bind-address=", "--v=4"});
  ASSERT_TRUE(off) << off.error().message();
  EXPECT_EQ((*off)->metricsBindAddress, "") << "an empty value turns the server off";
  EXPECT_TRUE((*off)->verbose);

  for (auto [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"berth-proxy", "--proxy-mode=ipvs"}, "--proxy-mode"},
           {{"berth-proxy", "--min-sync-period=x"}, "--min-sync-period"},
           {{"berth-proxy", "--healthz-bind-address=localhost"}, "healthzBindAddress"},
           {{"berth-proxy", "--no-such-flag"}, "no-such-flag"},
       }) {
    auto r = loadProxyOptions(args);
    ASSERT_FALSE(r) << args[1];
    EXPECT_NE(r.error().message().find(want), std::string::npos) << r.error().message();
  }
}

TEST(ProxyFlags, BindAddresses) {
  auto v6 = parseBindAddress("[::1]:10249");
  ASSERT_TRUE(v6 && *v6);
  EXPECT_EQ((*v6)->host, "::1");
  EXPECT_EQ((*v6)->port, 10249);
  auto off = parseBindAddress("");
  ASSERT_TRUE(off);
  EXPECT_FALSE(*off);
  EXPECT_FALSE(parseBindAddress("127.0.0.1:70000"));
}

}  // namespace
}  // namespace berth::proxy
