// berth-server driven by kubectl, unmodified, as a user drives a cluster: the same suite runs on
// the SQLite store and on etcd. Expected output is what a kube-apiserver 1.32 cluster prints.
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// Columns of a kubectl table row, split on runs of spaces.
std::vector<std::string> columns(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string c; in >> c;)
    out.push_back(c);
  return out;
}

class KubectlTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  static void SetUpTestSuite() {}
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto server = ServerFixture::start({.backend = GetParam()});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }
  std::unique_ptr<ServerFixture> server_;
};

TEST_P(KubectlTest, VersionAndDiscovery) {
  json version = json::parse(server_->kubectlOk({"version", "-o", "json"}));
  EXPECT_TRUE(version["serverVersion"]["gitVersion"].get<std::string>().starts_with("v1.32"));

  std::string versions = server_->kubectlOk({"api-versions"});
  for (const char* gv : {"v1", "apps/v1", "batch/v1", "rbac.authorization.k8s.io/v1",
                         "coordination.k8s.io/v1", "discovery.k8s.io/v1"}) {
    EXPECT_NE(versions.find(std::string(gv) + "\n"), std::string::npos) << gv << "\n" << versions;
  }

  // kubectl api-resources: NAME SHORTNAMES APIVERSION NAMESPACED KIND.
  std::map<std::string, std::vector<std::string>> rows;
  for (const std::string& line : lines(server_->kubectlOk({"api-resources"}))) {
    auto c = columns(line);
    if (!c.empty()) rows[c[0]] = c;
  }
  EXPECT_EQ(rows["pods"], (std::vector<std::string>{"pods", "po", "v1", "true", "Pod"}));
  EXPECT_EQ(rows["deployments"],
            (std::vector<std::string>{"deployments", "deploy", "apps/v1", "true", "Deployment"}));
  EXPECT_EQ(rows["nodes"], (std::vector<std::string>{"nodes", "no", "v1", "false", "Node"}));
  EXPECT_EQ(rows["leases"],
            (std::vector<std::string>{"leases", "coordination.k8s.io/v1", "true", "Lease"}));
}

TEST_P(KubectlTest, BootstrapObjectsExist) {
  EXPECT_EQ(server_->kubectlOk({"get", "namespaces", "-o", "name"}),
            "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\n"
            "namespace/kube-system\n");
  json svc = json::parse(server_->kubectlOk({"get", "service", "kubernetes", "-o", "json"}));
  EXPECT_EQ(svc["spec"]["clusterIP"], "10.43.0.1");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 443);
}

TEST_P(KubectlTest, ConfigMapLifecycle) {
  server_->kubectlOk({"create", "configmap", "app", "--from-literal=color=blue"});
  EXPECT_EQ(server_->kubectlOk({"get", "cm", "app", "-o", "jsonpath={.data.color}"}), "blue");

  server_->kubectlOk({"label", "cm", "app", "tier=web"});
  server_->kubectlOk({"annotate", "cm", "app", "owner=me"});
  server_->kubectlOk({"patch", "cm", "app", "-p", R"({"data":{"size":"L"}})"});
  server_->kubectlOk({"patch", "cm", "app", "--type=json", "-p",
                      R"([{"op":"replace","path":"/data/color","value":"red"}])"});
  server_->kubectlOk({"patch", "cm", "app", "--type=merge", "-p", R"({"data":{"size":null}})"});
  json cm = json::parse(server_->kubectlOk({"get", "cm", "app", "-o", "json"}));
  EXPECT_EQ(cm["data"], (json{{"color", "red"}}));
  EXPECT_EQ(cm["metadata"]["labels"]["tier"], "web");
  EXPECT_EQ(cm["metadata"]["annotations"]["owner"], "me");

  EXPECT_EQ(server_->kubectlOk({"get", "cm", "-l", "tier=web", "-o", "name"}), "configmap/app\n");
  EXPECT_EQ(server_->kubectlOk({"get", "cm", "-l", "tier!=web", "-o", "name"}),
            "configmap/kube-root-ca.crt\n");

  EXPECT_EQ(server_->kubectlOk({"delete", "cm", "app"}), "configmap \"app\" deleted\n");
  KubectlResult gone = server_->kubectl({"get", "cm", "app"});
  EXPECT_EQ(gone.exitCode, 1);
  EXPECT_EQ(gone.err, "Error from server (NotFound): configmaps \"app\" not found\n");
}

TEST_P(KubectlTest, CreateConflictsAndInvalidObjects) {
  server_->kubectlOk({"create", "namespace", "team"});
  KubectlResult again = server_->kubectl({"create", "namespace", "team"});
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_EQ(again.err, "Error from server (AlreadyExists): namespaces \"team\" already exists\n");

  KubectlResult invalid = server_->kubectl(
      {"create", "-f", "-"},
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"team"},
          "spec":{"containers":[{"name":"c"}]}})");
  EXPECT_EQ(invalid.exitCode, 1);
  EXPECT_NE(invalid.err.find("The Pod \"p\" is invalid: spec.containers[0].image: Required value"),
            std::string::npos)
      << invalid.err;

  KubectlResult missingNs = server_->kubectl({"create", "configmap", "x", "-n", "nowhere"});
  EXPECT_EQ(missingNs.exitCode, 1);
  EXPECT_EQ(missingNs.err, "error: failed to create configmap: namespaces \"nowhere\" not found\n");
}

TEST_P(KubectlTest, StrictFieldValidation) {
  KubectlResult r = server_->kubectl(
      {"apply", "-f", "-"},
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{},"bogus":1})");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("unknown field \"bogus\""), std::string::npos) << r.err;
}

const char* kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.local/app:1.0
      - name: sidecar
        image: registry.local/sidecar:1.0
)";

TEST_P(KubectlTest, ApplyChangesOneContainerAndScale) {
  server_->kubectlOk({"apply", "-f", "-"}, kDeployment);
  json first = json::parse(server_->kubectlOk({"get", "deploy", "web", "-o", "json"}));
  EXPECT_EQ(first["metadata"]["generation"], 1);

  std::string edited =
      std::regex_replace(std::string(kDeployment), std::regex("app:1\\.0"), "app:2.0");
  server_->kubectlOk({"apply", "-f", "-"}, edited);
  json second = json::parse(server_->kubectlOk({"get", "deploy", "web", "-o", "json"}));
  auto containers = second["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0]["image"], "registry.local/app:2.0");
  EXPECT_EQ(containers[1]["image"], "registry.local/sidecar:1.0");
  EXPECT_EQ(second["metadata"]["generation"], 2);

  server_->kubectlOk({"scale", "deployment", "web", "--replicas=5"});
  EXPECT_EQ(server_->kubectlOk({"get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"}), "5");
  EXPECT_EQ(server_->kubectlOk({"get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"}),
            "3");
}

TEST_P(KubectlTest, PodsGetDefaultsAndAWideTable) {
  server_->kubectlOk({"run", "box", "--image=registry.local/busybox:1.36", "--restart=Never"});
  json pod = json::parse(server_->kubectlOk({"get", "pod", "box", "-o", "json"}));
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(pod["status"]["qosClass"], "BestEffort");
  EXPECT_EQ(pod["spec"]["serviceAccountName"], "default");
  EXPECT_EQ(pod["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(pod["spec"]["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(pod["spec"]["tolerations"].size(), 2u);
  EXPECT_EQ(pod["spec"]["volumes"][0]["name"].get<std::string>().substr(0, 16), "kube-api-access-");

  auto table = lines(server_->kubectlOk({"get", "pods", "-o", "wide"}));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(columns(table[0]),
            (std::vector<std::string>{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                      "NOMINATED", "NODE", "READINESS", "GATES"}));
  auto row = columns(table[1]);
  ASSERT_GE(row.size(), 5u);
  EXPECT_EQ(row[0], "box");
  EXPECT_EQ(row[1], "0/1");
  EXPECT_EQ(row[2], "Pending");
  EXPECT_EQ(row[3], "0");

  // Not bound to a node: deleted at once, grace period or not.
  EXPECT_EQ(server_->kubectlOk({"delete", "pod", "box"}), "pod \"box\" deleted\n");
}

// What kube-apiserver 1.32 writes into workloads a user creates with the fewest fields: the
// controllers of `berth up` read these instead of assuming them.
TEST_P(KubectlTest, WorkloadsGetTheirKindsDefaults) {
  json deploy = json::parse(server_->kubectlOk(
      {"create", "deployment", "d", "--image=registry.local/app", "-o", "json"}));
  EXPECT_EQ(deploy["spec"]["strategy"], json::parse(R"({"type":"RollingUpdate",
                            "rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})"));
  json container = deploy["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(container["imagePullPolicy"], "Always");  // no tag
  EXPECT_EQ(container["resources"], json::object());
  EXPECT_EQ(deploy["spec"]["template"]["spec"]["restartPolicy"], "Always");
  EXPECT_FALSE(deploy["spec"]["template"]["spec"].contains("enableServiceLinks"));  // pods only

  json ds = json::parse(server_->kubectlOk({"create", "-f", "-", "-o", "json"}, R"(
    {"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"ds"},
     "spec":{"selector":{"matchLabels":{"a":"b"}},
             "template":{"metadata":{"labels":{"a":"b"}},
                         "spec":{"containers":[{"name":"c","image":"registry.local/x:1"}]}}}})"));
  EXPECT_EQ(ds["spec"]["updateStrategy"], json::parse(R"({"type":"RollingUpdate",
                            "rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})"));
  EXPECT_EQ(ds["spec"]["revisionHistoryLimit"], 10);

  json sts = json::parse(server_->kubectlOk({"create", "-f", "-", "-o", "json"}, R"(
    {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db"},
     "spec":{"selector":{"matchLabels":{"a":"db"}},
             "template":{"metadata":{"labels":{"a":"db"}},
                         "spec":{"containers":[{"name":"c","image":"registry.local/db:1"}]}}}})"));
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(sts["spec"]["updateStrategy"],
            json::parse(R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})"));
  EXPECT_EQ(sts["spec"]["persistentVolumeClaimRetentionPolicy"],
            json::parse(R"({"whenDeleted":"Retain","whenScaled":"Retain"})"));
  EXPECT_EQ(sts["spec"]["replicas"], 1);

  // A Job selects its pods by its own UID, and its pods carry its name and UID.
  json job = json::parse(
      server_->kubectlOk({"create", "job", "j", "--image=registry.local/x:1", "-o", "json"}));
  std::string uid = job["metadata"]["uid"];
  EXPECT_EQ(job["spec"]["selector"],
            json({{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}}));
  json labels = {{"batch.kubernetes.io/controller-uid", uid},
                 {"batch.kubernetes.io/job-name", "j"},
                 {"controller-uid", uid},
                 {"job-name", "j"}};
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"], labels);
  EXPECT_EQ(job["metadata"]["labels"], labels);
  json jobDefaults = json::parse(R"({"completions":1,"parallelism":1,"backoffLimit":6,
      "completionMode":"NonIndexed","suspend":false,"podReplacementPolicy":"TerminatingOrFailed"})");
  for (const auto& [field, value] : jobDefaults.items()) {
    EXPECT_EQ(job["spec"][field], value) << field;
  }

  // A CronJob's job template gets the pod defaults only (SetDefaults_Job is for Jobs).
  json cron = json::parse(server_->kubectlOk({"create", "cronjob", "cj", "--image=registry.local/x",
                                              "--schedule=*/5 * * * *", "-o", "json"}));
  EXPECT_EQ(cron["spec"]["concurrencyPolicy"], "Allow");
  EXPECT_FALSE(cron["spec"]["jobTemplate"]["spec"].contains("parallelism"));
  EXPECT_EQ(
      cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
      "Always");
}

TEST_P(KubectlTest, WorkloadsAreValidatedAsUpstream) {
  KubectlResult mismatch = server_->kubectl({"create", "-f", "-"}, R"(
    {"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s"},
     "spec":{"selector":{"matchLabels":{"app":"s"}},
             "template":{"metadata":{"labels":{"app":"x"}},
                         "spec":{"containers":[{"name":"c","image":"registry.local/x:1"}]}}}})");
  EXPECT_EQ(mismatch.exitCode, 1);
  EXPECT_NE(mismatch.err.find("The StatefulSet \"s\" is invalid: spec.template.metadata.labels: "
                              "Invalid value: "),
            std::string::npos)
      << mismatch.err;
  EXPECT_NE(mismatch.err.find("`selector` does not match template `labels`"), std::string::npos)
      << mismatch.err;

  KubectlResult recreate = server_->kubectl({"create", "-f", "-"}, R"(
    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"r"},
     "spec":{"selector":{"matchLabels":{"app":"r"}},
             "strategy":{"type":"Recreate","rollingUpdate":{}},
             "template":{"metadata":{"labels":{"app":"r"}},
                         "spec":{"restartPolicy":"Never",
                                 "containers":[{"name":"c","image":"registry.local/x:1"}]}}}})");
  EXPECT_EQ(recreate.exitCode, 1);
  EXPECT_NE(recreate.err.find("spec.template.spec.restartPolicy: Unsupported value: \"Never\": "
                              "supported values: \"Always\""),
            std::string::npos)
      << recreate.err;
  EXPECT_NE(recreate.err.find("spec.strategy.rollingUpdate: Forbidden: may not be specified when "
                              "strategy `type` is 'Recreate'"),
            std::string::npos)
      << recreate.err;

  // A Job's pods may not restart in place forever: Always (the pod default) is refused.
  KubectlResult job = server_->kubectl({"create", "-f", "-"}, R"(
    {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},
     "spec":{"template":{"spec":{"containers":[{"name":"c","image":"registry.local/x:1"}]}}}})");
  EXPECT_EQ(job.exitCode, 1);
  EXPECT_NE(job.err.find("spec.template.spec.restartPolicy: Unsupported value: \"Always\": "
                         "supported values: \"OnFailure\", \"Never\""),
            std::string::npos)
      << job.err;

  server_->kubectlOk({"create", "deployment", "d", "--image=registry.local/app:1"});
  KubectlResult selector = server_->kubectl(
      {"patch", "deployment", "d", "-p", R"({"spec":{"selector":{"matchLabels":{"x":"y"}},
          "template":{"metadata":{"labels":{"x":"y"}}}}})"});
  EXPECT_EQ(selector.exitCode, 1);
  EXPECT_NE(selector.err.find("spec.selector: Invalid value"), std::string::npos) << selector.err;
  EXPECT_NE(selector.err.find("field is immutable"), std::string::npos) << selector.err;
}

TEST_P(KubectlTest, ServicesGetAddressesFromTheirRanges) {
  server_->kubectlOk({"create", "service", "clusterip", "web", "--tcp=80:8080"});
  server_->kubectlOk({"create", "service", "nodeport", "edge", "--tcp=80:8080"});
  json web = json::parse(server_->kubectlOk({"get", "svc", "web", "-o", "json"}));
  EXPECT_TRUE(web["spec"]["clusterIP"].get<std::string>().starts_with("10.43."));
  EXPECT_EQ(web["spec"]["ipFamilies"], json::array({"IPv4"}));
  json edge = json::parse(server_->kubectlOk({"get", "svc", "edge", "-o", "json"}));
  int nodePort = edge["spec"]["ports"][0]["nodePort"];
  EXPECT_GE(nodePort, 30000);
  EXPECT_LE(nodePort, 32767);
  EXPECT_NE(edge["spec"]["clusterIP"], web["spec"]["clusterIP"]);

  KubectlResult taken =
      server_->kubectl({"create", "-f", "-"},
                       json{{"apiVersion", "v1"},
                            {"kind", "Service"},
                            {"metadata", {{"name", "again"}}},
                            {"spec",
                             {{"type", "NodePort"},
                              {"ports", json::array({{{"port", 81}, {"nodePort", nodePort}}})}}}}
                           .dump());
  EXPECT_EQ(taken.exitCode, 1);
  EXPECT_NE(taken.err.find("provided port is already allocated"), std::string::npos) << taken.err;
}

TEST_P(KubectlTest, WatchStreamsChanges) {
  // A watch with a server-side timeout: the events of the creates below, then the stream ends.
  // The list's own revision (kubectl get -o jsonpath would read a client-side List).
  std::string rv = json::parse(server_->kubectlOk(
      {"get", "--raw", "/api/v1/namespaces/default/configmaps"}))["metadata"]["resourceVersion"];
  server_->kubectlOk({"create", "configmap", "w1"});
  server_->kubectlOk({"delete", "configmap", "w1"});
  std::string raw = server_->kubectlOk(
      {"get", "--raw",
       "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&resourceVersion=" + rv});
  auto events = lines(raw);
  ASSERT_EQ(events.size(), 2u) << raw;
  EXPECT_EQ(json::parse(events[0])["type"], "ADDED");
  EXPECT_EQ(json::parse(events[1])["type"], "DELETED");
  EXPECT_EQ(json::parse(events[1])["object"]["metadata"]["name"], "w1");
}

TEST_P(KubectlTest, AuthCanI) {
  EXPECT_EQ(server_->kubectlOk({"auth", "can-i", "create", "pods"}), "yes\n");
  EXPECT_EQ(server_->kubectlOk({"auth", "can-i", "delete", "nodes", "--all-namespaces"}), "yes\n");
}

TEST_P(KubectlTest, ExplainReadsTheOpenApiSchema) {
  std::string out = server_->kubectlOk({"explain", "pod.spec.containers.image"});
  EXPECT_NE(out.find("FIELD: image <string>"), std::string::npos) << out;
  out = server_->kubectlOk({"explain", "deployment.spec.strategy"});
  EXPECT_NE(out.find("rollingUpdate"), std::string::npos) << out;
}

TEST_P(KubectlTest, NamespaceDeletionRemovesItsContent) {
  server_->kubectlOk({"create", "namespace", "scratch"});
  server_->kubectlOk({"create", "configmap", "c", "-n", "scratch"});
  server_->kubectlOk({"wait", "--for=jsonpath={.metadata.name}=default", "serviceaccount/default",
                      "-n", "scratch", "--timeout=20s"});
  server_->kubectlOk({"delete", "namespace", "scratch", "--timeout=30s"});
  KubectlResult gone = server_->kubectl({"get", "namespace", "scratch"});
  EXPECT_EQ(gone.exitCode, 1);
  KubectlResult protectedNs = server_->kubectl({"delete", "namespace", "default"});
  EXPECT_EQ(protectedNs.exitCode, 1);
  EXPECT_NE(protectedNs.err.find("this namespace may not be deleted"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, KubectlTest,
                         ::testing::Values(StoreBackend::kSqlite, StoreBackend::kEtcd),
                         [](const auto& info) {
                           return info.param == StoreBackend::kSqlite ? "Sqlite" : "Etcd";
                         });

}  // namespace
}  // namespace berth::testing
