// berth-proxy as a process, fed by berth-server (Services and EndpointSlices created with
// kubectl), programming a node network namespace the test creates, with real TCP traffic from a
// client pod namespace to two endpoint pods. berth-proxy runs inside the node namespace, as on a
// node (`ip netns exec`), so the host's ruleset is never touched; it reaches berth-server, which
// listens on the test's 127.0.0.1, through a relay the test owns on the node's 127.0.0.1 (same
// port, so the admin kubeconfig and the server's certificate serve as they are). The service CIDR
// is routed only inside the node. Conditions are waited on, never timed.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <set>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/spawn.h"
#include "common/temp_dir_for_test.h"
#include "tests/integration/proxy/proxy_netns.h"
#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

constexpr const char* kClusterIp = "10.43.0.10";  // in berth-server's default service range

// Polls `cond` every 100 ms until it holds or `limit` passes (a bound for a broken build, not a
// performance assertion).
bool eventually(const std::function<bool()>& cond,
                std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

std::string serviceYaml() {
  return fmt::format(R"(apiVersion: v1
kind: Service
metadata: {{name: web, namespace: default}}
spec:
  clusterIP: {}
  ports: [{{name: http, port: 80, targetPort: 8080, protocol: TCP}}]
)",
                     kClusterIp);
}

// The Service's one EndpointSlice with endpoints at these pod addresses, port 8080.
std::string sliceYaml(const std::vector<std::string>& ips) {
  std::string endpoints;
  for (const std::string& ip : ips)
    endpoints += fmt::format("  - addresses: [{}]\n    conditions: {{ready: true}}\n", ip);
  return fmt::format(R"(apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels: {{kubernetes.io/service-name: web, endpointslice.kubernetes.io/managed-by: test}}
  # What the EndpointSlice controller sets: the network programming latency starts here.
  annotations: {{endpoints.kubernetes.io/last-change-trigger-time: "{:%Y-%m-%dT%H:%M:%SZ}"}}
addressType: IPv4
ports: [{{name: http, port: 8080, protocol: TCP}}]
endpoints:{}
)",
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()),
                     endpoints.empty() ? " []" : "\n" + endpoints);
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET http://127.0.0.1:<port><path> inside the node.
HttpAnswer httpGet(const TestNetns& node, uint16_t port, const std::string& path) {
  auto [code, out] = node.exec({"curl", "-s", "-m", "5", "-w", "\n%{http_code}",
                                fmt::format("http://127.0.0.1:{}{}", port, path)});
  HttpAnswer a;
  size_t nl = out.rfind('\n');
  if (code != 0 || nl == std::string::npos) return a;
  a.body = out.substr(0, nl);
  a.status = std::atoi(out.c_str() + nl + 1);
  return a;
}

// A metric's value from /metrics text, or -1.
double metric(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + name.size() + 2);
}

class ProxyDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    if (sh("command -v nft && command -v curl").first != 0)
      GTEST_SKIP() << "needs the nft CLI and curl";
    auto server = ServerFixture::start({});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);

    node_ = std::make_unique<TestNetns>("berth-pd-node");
    ASSERT_TRUE(node_->ok());
    const char* tags[] = {"berth-pd-a", "berth-pd-b", "berth-pd-client"};
    for (int i = 0; i < 3; ++i) {
      pods_.push_back(std::make_unique<TestNetns>(tags[i]));
      ASSERT_TRUE(pods_.back()->ok());
      Status st = addPod(*node_, *pods_.back(), i + 1);
      ASSERT_TRUE(st) << st.error().message();
      auto ns = NetNs::open(pods_.back()->path());
      ASSERT_TRUE(ns) << ns.error().message();
      podNs_.push_back(std::make_unique<NetNs>(std::move(*ns)));
    }
    auto nodeNs = NetNs::open(node_->path());
    ASSERT_TRUE(nodeNs) << nodeNs.error().message();
    nodeNs_ = std::make_unique<NetNs>(std::move(*nodeNs));
    Status st = routeServiceCidr(*node_, "10.43.0.0/16");
    ASSERT_TRUE(st) << st.error().message();
    auto [code, out] = node_->exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"});
    ASSERT_EQ(code, 0) << out;
    serverA_ = std::make_unique<PodServer>(*podNs_[0], "10.1.1.2", "pod-a", 8080, true);
    serverB_ = std::make_unique<PodServer>(*podNs_[1], "10.1.2.2", "pod-b", 8080, true);
    ASSERT_EQ(fetch(client(), "10.1.1.2", 8080), "pod-a") << "pods reach each other directly";
    auto relay = LoopbackForwarder::start(*nodeNs_, static_cast<uint16_t>(server_->port()));
    ASSERT_TRUE(relay) << relay.error().message();
    apiRelay_ = std::move(*relay);
    startProxy();
  }

  void TearDown() override {
    if (proxy_.valid() && HasFailure()) {
      std::cerr << "berth-proxy log:\n" << readFile(logPath()).value_or("") << "\n";
    }
    proxy_.killAndReap();
    serverA_.reset();
    serverB_.reset();
  }

  const NetNs& client() const { return *podNs_[2]; }
  std::string logPath() const { return (logDir_.path() / "proxy.log").string(); }

  // berth-proxy inside the node, on its default healthz and metrics addresses there.
  void startProxy() {
    SpawnOptions spawn;
    spawn.path = "ip";
    spawn.args = {"ip", "netns", "exec", node_->name(), BERTH_PROXY_PATH,
                  "--kubeconfig=" + server_->adminKubeconfig().string(),
                  "--hostname-override=node-1", "--cluster-cidr=10.1.0.0/16",
                  "--min-sync-period=100ms",
                  // No periodic resync within a test: a repair can only come from the events.
                  "--sync-period=1h", "--v=4"};
    spawn.outputFile = logPath();
    auto p = startProgram(spawn);  // `ip netns exec` execs the program: the pid is berth-proxy's
    ASSERT_TRUE(p) << p.error().message();
    proxy_ = std::move(*p);
  }

  // SIGTERM and wait: a clean stop, as a service manager restarts it.
  void stopProxy() {
    ::kill(proxy_.pid(), SIGTERM);
    auto exited = proxy_.wait();
    ASSERT_TRUE(exited) << exited.error().message();
    proxy_ = ChildProcess();
  }

  void apply(const std::string& yaml) {
    server_->kubectlOk({"apply", "--validate=false", "-f", "-"}, yaml);
  }

  std::string table() const {
    return node_->exec({"nft", "list", "table", "ip", "berth-proxy"}).second;
  }

  // The last sync time the running process reports (0 before its first sync).
  double lastSync() const {
    return metric(httpGet(*node_, metricsPort_, "/metrics").body,
                  "kubeproxy_sync_proxy_rules_last_timestamp_seconds");
  }

  std::unique_ptr<ServerFixture> server_;
  std::unique_ptr<TestNetns> node_;
  std::unique_ptr<NetNs> nodeNs_;
  std::vector<std::unique_ptr<TestNetns>> pods_;
  std::vector<std::unique_ptr<NetNs>> podNs_;
  std::unique_ptr<PodServer> serverA_, serverB_;
  TempDir logDir_{"berth-proxy-test"};
  ChildProcess proxy_;
  std::unique_ptr<LoopbackForwarder> apiRelay_;
  static constexpr uint16_t healthzPort_ = 10256, metricsPort_ = 10249;  // the defaults
};

TEST_F(ProxyDaemonTest, AClusterIpServiceAnswersFollowsItsEndpointsAndGoesAway) {
  apply(serviceYaml());
  apply(sliceYaml({"10.1.1.2"}));
  EXPECT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-a"; }))
      << fetch(client(), kClusterIp, 80) << "\n"
      << table();

  // Scaled to two endpoints: connections reach both.
  apply(sliceYaml({"10.1.1.2", "10.1.2.2"}));
  std::set<std::string> seen;
  EXPECT_TRUE(eventually([&] {
    seen.insert(fetch(client(), kClusterIp, 80));
    return seen.contains("pod-a") && seen.contains("pod-b");
  })) << fmt::format("{}", fmt::join(seen, ", "));

  // Down to pod-b alone: every connection goes there.
  apply(sliceYaml({"10.1.2.2"}));
  EXPECT_TRUE(eventually([&] {
    for (int i = 0; i < 10; ++i) {
      if (fetch(client(), kClusterIp, 80) != "pod-b") return false;
    }
    return true;
  }));

  // The Service deleted: its rules go, and nothing answers on its address.
  server_->kubectlOk({"delete", "service", "web"});
  EXPECT_TRUE(eventually([&] { return table().find("default/web") == std::string::npos; }))
      << table();
  EXPECT_EQ(table().find(kClusterIp), std::string::npos) << table();
  EXPECT_NE(fetch(client(), kClusterIp, 80), "pod-b");
}

TEST_F(ProxyDaemonTest, AFlushedRulesetIsRestored) {
  apply(serviceYaml());
  apply(sliceYaml({"10.1.2.2"}));
  ASSERT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-b"; })) << table();

  auto restores = [&] {
    return metric(httpGet(*node_, metricsPort_, "/metrics").body,
                  "berth_proxy_nftables_restores_total");
  };
  auto [code, out] = node_->exec({"nft", "flush", "ruleset"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-b"; })) << table();
  EXPECT_NE(table().find("default/web"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return restores() == 1; }));

  // Drift inside the table: a chain of ours emptied.
  std::tie(code, out) = node_->exec({"nft", "flush", "chain", "ip", "berth-proxy", "services"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(eventually([&] { return restores() == 2; }));
  EXPECT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-b"; })) << table();

  // Someone else's table is left alone, and changing it is not our business.
  std::tie(code, out) = node_->exec({"nft", "add", "table", "ip", "other"});
  ASSERT_EQ(code, 0) << out;
  std::tie(code, out) = node_->exec({"nft", "add", "chain", "ip", "other", "c"});
  ASSERT_EQ(code, 0) << out;
  apply(sliceYaml({"10.1.1.2"}));  // a sync of our own after those events
  EXPECT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-a"; }));
  EXPECT_EQ(node_->exec({"nft", "list", "chain", "ip", "other", "c"}).first, 0);
  EXPECT_EQ(restores(), 2);
}

TEST_F(ProxyDaemonTest, ARestartKeepsALongLivedConnectionAndAdoptsTheTable) {
  apply(serviceYaml());
  apply(sliceYaml({"10.1.1.2"}));
  ASSERT_TRUE(eventually([&] { return fetch(client(), kClusterIp, 80) == "pod-a"; })) << table();

  auto conn = connectFrom(client(), kClusterIp, 80);
  ASSERT_TRUE(conn) << conn.error().message();
  char buf[64];
  ASSERT_EQ(::read(conn->get(), buf, sizeof buf), 5);  // "pod-a"

  // New connections all through the restart: the new process replaces the table it finds in
  // one transaction, so none of them finds the Service missing.
  std::atomic<bool> restarting{true};
  std::vector<std::string> wrong;
  std::thread prober([&] {
    while (restarting) {
      std::string answer = fetch(client(), kClusterIp, 80);
      if (answer != "pod-a") wrong.push_back(answer);
    }
  });
  stopProxy();
  EXPECT_NE(table().find("default/web"), std::string::npos) << "the rules outlive the process";
  startProxy();
  EXPECT_TRUE(eventually([&] { return lastSync() > 0; })) << "the new process synced";
  restarting = false;
  prober.join();
  EXPECT_TRUE(wrong.empty()) << fmt::format("{}", fmt::join(wrong, "; "));

  ASSERT_EQ(::write(conn->get(), "ping", 4), 4);
  ssize_t n = ::read(conn->get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "ping")
      << "the connection made before the restart still flows";
  EXPECT_EQ(fetch(client(), kClusterIp, 80), "pod-a");
  EXPECT_NE(table().find("default/web"), std::string::npos);
}

TEST_F(ProxyDaemonTest, HealthzAndMetricsAnswer) {
  apply(serviceYaml());
  apply(sliceYaml({"10.1.1.2"}));
  HttpAnswer h;
  ASSERT_TRUE(eventually([&] {
    h = httpGet(*node_, healthzPort_, "/healthz");
    return h.status == 200 && h.body.find("\"lastUpdated\": \"\"") == std::string::npos;
  })) << h.status
      << " " << h.body;
  json body = json::parse(h.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << h.body;
  EXPECT_TRUE(body["lastUpdated"].is_string());
  EXPECT_TRUE(body["currentTime"].is_string());
  EXPECT_EQ(body["nodeEligible"], true);

  // The slice's trigger time is programmed in a sync of its own, maybe after the first.
  HttpAnswer m;
  EXPECT_TRUE(eventually([&] {
    m = httpGet(*node_, metricsPort_, "/metrics");
    return metric(m.body, "kubeproxy_network_programming_duration_seconds_count") > 0;
  })) << m.body;
  ASSERT_EQ(m.status, 200);
  for (const char* name : {"kubeproxy_sync_proxy_rules_duration_seconds_count",
                           "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
                           "berth_proxy_nftables_rules", "berth_proxy_nftables_elements"}) {
    EXPECT_GT(metric(m.body, name), 0) << name << "\n" << m.body;
  }
  EXPECT_EQ(httpGet(*node_, healthzPort_, "/nope").status, 404);

  // A node marked for deletion by the autoscaler is not eligible: 503, as kube-proxy answers.
  apply(R"(apiVersion: v1
kind: Node
metadata: {name: node-1}
spec:
  taints: [{key: ToBeDeletedByClusterAutoscaler, effect: NoSchedule}]
)");
  EXPECT_TRUE(eventually([&] {
    h = httpGet(*node_, healthzPort_, "/healthz");
    return h.status == 503;
  })) << h.status
      << " " << h.body;
  EXPECT_NE(h.body.find("\"nodeEligible\": false"), std::string::npos) << h.body;
}

}  // namespace
}  // namespace berth::testing
