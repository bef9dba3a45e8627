// `berth up` end to end: one command, then kubectl drives the cluster as a user would, and the
// workloads are reached over the pod network, a ClusterIP and a NodePort.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/spawn.h"
#include "tests/e2e/up_fixture.h"

namespace berth::testing {
namespace {

// The body of GET url, or "" when it can't be had (yet).
std::string httpGet(const std::string& url) {
  HttpClient client;
  HttpRequest request;
  request.url = url;
  request.connectTimeoutSeconds = 2;
  request.lowSpeedTimeSeconds = 5;
  auto response = client.send(request);
  if (!response || response->status != 200) return "";
  return response->body;
}

// Polls url until it answers; returns the bodies seen across `tries` answers.
std::set<std::string> answers(const std::string& url, int tries) {
  std::set<std::string> seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (tries > 0 && std::chrono::steady_clock::now() < deadline) {
    std::string body = httpGet(url);
    if (body.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    seen.insert(body);
    --tries;
  }
  return seen;
}

// A web server pod answering its own name.
std::string webPod(const std::string& name, const std::string& node, const std::string& image) {
  return fmt::format(R"(apiVersion: v1
kind: Pod
metadata:
  name: {0}
  labels: {{app: web}}
spec:
  nodeName: {1}
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: {2}
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{{containerPort: 8080, name: http}}]
)",
                     name, node, image);
}

class UpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = UpFixture::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    auto up = UpFixture::start();
    ASSERT_TRUE(up) << up.error().message();
    up_ = std::move(*up);
  }
  std::unique_ptr<UpFixture> up_;
};

TEST_F(UpTest, OneCommandGivesAReadyNodeThatRunsPodsBehindServices) {
  up_->kubectlOk({"apply", "-f", "-"}, webPod("web-a", up_->nodeName(), up_->image()));
  ASSERT_TRUE(
      up_->waitForOutput({"get", "pod", "web-a", "-o", "jsonpath={.status.phase}"}, "Running"))
      << up_->logs();
  std::string podIp = up_->kubectlOk({"get", "pod", "web-a", "-o", "jsonpath={.status.podIP}"});
  EXPECT_EQ(answers("http://" + podIp + ":8080/", 1), std::set<std::string>{"web-a\n"});

  up_->kubectlOk({"create", "service", "clusterip", "web", "--tcp=80:http"});
  up_->kubectlOk({"set", "selector", "service", "web", "app=web"});
  std::string clusterIp =
      up_->kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  EXPECT_EQ(answers("http://" + clusterIp + "/", 1), std::set<std::string>{"web-a\n"})
      << up_->logs();

  up_->kubectlOk({"expose", "pod", "web-a", "--name=web-np", "--type=NodePort", "--port=80",
                  "--target-port=8080"});
  std::string nodePort =
      up_->kubectlOk({"get", "service", "web-np", "-o", "jsonpath={.spec.ports[0].nodePort}"});
  EXPECT_EQ(answers(fmt::format("http://{}:{}/", UpFixture::kNodeIp, nodePort), 1),
            std::set<std::string>{"web-a\n"});
}

TEST_F(UpTest, ADeploymentRollsOutUpdatesAndRollsBackBehindItsService) {
  up_->kubectlOk({"create", "deployment", "web", "--image=" + up_->image(), "--replicas=3",
                  "--port=8080", "--", "sh", "-c",
                  "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"});
  up_->kubectlOk({"rollout", "status", "deployment/web", "--timeout=120s"});
  up_->kubectlOk({"expose", "deployment", "web", "--port=80", "--target-port=8080"});
  std::string clusterIp =
      up_->kubectlOk({"get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"});
  // The three pods answer their names through the ClusterIP.
  std::set<std::string> names;
  for (const auto& body : answers("http://" + clusterIp + "/", 30))
    names.insert(body);
  EXPECT_EQ(names.size(), 3u) << up_->logs();

  std::string updated = up_->image().substr(0, up_->image().rfind(':')) + ":2";
  up_->kubectlOk({"set", "image", "deployment/web", "busybox=" + updated});
  up_->kubectlOk({"rollout", "status", "deployment/web", "--timeout=120s"});
  // The new ReplicaSet holds the three replicas, the old one none (its pods may still be
  // terminating: busybox's httpd as pid 1 ignores SIGTERM and waits out the grace period).
  std::string sets = up_->kubectlOk(
      {"get", "replicasets", "-l", "app=web", "-o",
       "jsonpath={range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas} "
       "{.status.readyReplicas}{\"\\n\"}{end}"});
  EXPECT_NE(sets.find(updated + " 3 3\n"), std::string::npos) << sets;
  EXPECT_NE(sets.find(up_->image() + " 0"), std::string::npos) << sets;
  EXPECT_NE(up_->kubectlOk({"rollout", "history", "deployment/web"}).find("2 "), std::string::npos);
  up_->kubectlOk({"rollout", "undo", "deployment/web"});
  up_->kubectlOk({"rollout", "status", "deployment/web", "--timeout=120s"});
  EXPECT_EQ(up_->kubectlOk({"get", "deployment", "web", "-o",
                            "jsonpath={.spec.template.spec.containers[0].image}"}),
            up_->image());
  EXPECT_FALSE(answers("http://" + clusterIp + "/", 1).empty()) << up_->logs();
}

TEST_F(UpTest, PodsResolveServicesThroughClusterDns) {
  up_->kubectlOk({"apply", "-f", "-"}, webPod("web-a", up_->nodeName(), up_->image()));
  ASSERT_TRUE(
      up_->waitForOutput({"get", "pod", "web-a", "-o", "jsonpath={.status.phase}"}, "Running"))
      << up_->logs();
  std::string resolv = up_->kubectlOk({"exec", "web-a", "--", "cat", "/etc/resolv.conf"});
  EXPECT_NE(resolv.find("nameserver 10.43.0.10"), std::string::npos) << resolv;
  EXPECT_NE(resolv.find("search default.svc.cluster.local svc.cluster.local cluster.local"),
            std::string::npos)
      << resolv;
  // The kubernetes Service by its short name (the search path) and by its full name. busybox's
  // nslookup tries every search domain and fails when one says NXDOMAIN: read its answers.
  for (const char* name : {"kubernetes", "kubernetes.default.svc.cluster.local"}) {
    auto r = up_->kubectl({"exec", "web-a", "--", "busybox", "nslookup", name});
    EXPECT_NE(r.out.find("Address: 10.43.0.1\n"), std::string::npos)
        << name << ": " << r.out << r.err << up_->logs();
  }
  auto missing = up_->kubectl(
      {"exec", "web-a", "--", "busybox", "nslookup", "nothing.default.svc.cluster.local."});
  EXPECT_NE(missing.out.find("NXDOMAIN"), std::string::npos) << missing.out << missing.err;
}

TEST_F(UpTest, ARestartBringsTheSameClusterBack) {
  up_->kubectlOk({"create", "configmap", "kept", "--from-literal=a=b"});
  up_->kubectlOk({"apply", "-f", "-"}, webPod("web-a", up_->nodeName(), up_->image()));
  ASSERT_TRUE(
      up_->waitForOutput({"get", "pod", "web-a", "-o", "jsonpath={.status.phase}"}, "Running"))
      << up_->logs();
  std::string uid = up_->kubectlOk({"get", "pod", "web-a", "-o", "jsonpath={.metadata.uid}"});
  ASSERT_TRUE(up_->restart()) << up_->logs();
  EXPECT_EQ(up_->kubectlOk({"get", "configmap", "kept", "-o", "jsonpath={.data.a}"}), "b");
  // The pod kept running through the restart: same object, still Running, and it answers.
  EXPECT_EQ(up_->kubectlOk({"get", "pod", "web-a", "-o", "jsonpath={.metadata.uid}"}), uid);
  std::string podIp = up_->kubectlOk({"get", "pod", "web-a", "-o", "jsonpath={.status.podIP}"});
  EXPECT_EQ(answers("http://" + podIp + ":8080/", 1), std::set<std::string>{"web-a\n"});
}

TEST_F(UpTest, BadFlagsAreRefusedNamingTheFlag) {
  ASSERT_TRUE(up_->down(false));
  // Down again: nothing to do, no error.
  ASSERT_TRUE(up_->down(false));
  const auto other = up_->dataDir().parent_path() / "other";
  SpawnOptions o;
  o.path = BERTH_BIN_DIR "/berth";
  o.args = {"berth", "up", "--data-dir", other.string(), "--cluster-cidr", "10.42.0.0/33"};
  o.captureStdout = true;
  o.captureStderr = true;
  auto r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_NE(r->status.code, 0);
  EXPECT_NE(r->stderrData.find("--cluster-cidr"), std::string::npos) << r->stderrData;
  EXPECT_FALSE(std::filesystem::exists(other)) << "a refused start left its data dir";
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--service-cidr", "10.43.0.0/16,10.44.0.0/16"}, {"--node-name", "not_a_name"}}) {
    o.args = {"berth", "up", "--data-dir", other.string(), flag, value};
    r = runProgram(o);
    ASSERT_TRUE(r);
    EXPECT_NE(r->status.code, 0) << flag;
    EXPECT_NE(r->stderrData.find(flag + " \"" + value + "\""), std::string::npos) << r->stderrData;
    EXPECT_FALSE(std::filesystem::exists(other)) << flag;
  }
  // A data dir that never held a node: nothing to stop, exit 0.
  o.args = {"berth", "down", "--data-dir", other.string(), "--purge"};
  r = runProgram(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status.code, 0) << r->stderrData;
}

}  // namespace
}  // namespace berth::testing
