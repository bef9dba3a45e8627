// Server-side apply against berth-server with the machine's kubectl, unmodified, on the SQLite
// store and on etcd: creation, merges, managedFields, conflicts with other managers, forcing,
// pruning what a manager stops applying, dry-run and the status subresource. Messages are
// kube-apiserver 1.32's.
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/server/server_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

std::string deployment(int replicas, std::string_view image) {
  return fmt::format(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: app
        image: {}
        ports:
        - containerPort: 80
)",
                     replicas, image);
}

// The managedFields entries of an object, by "manager/operation[/subresource]".
std::map<std::string, json> managers(const json& object) {
  std::map<std::string, json> out;
  for (const json& e : object["metadata"]["managedFields"]) {
    std::string key = e["manager"].get<std::string>() + "/" + e["operation"].get<std::string>();
    if (e.contains("subresource")) key += "/" + e["subresource"].get<std::string>();
    out[key] = e;
  }
  return out;
}

class ServerSideApplyTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto server = ServerFixture::start({.backend = GetParam()});
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }
  json get(const std::string& what) const {
    return json::parse(server_->kubectlOk({"get", what, "-o", "json", "--show-managed-fields"}));
  }
  std::unique_ptr<ServerFixture> server_;
};

TEST_P(ServerSideApplyTest, CreatesThenMergesAndRecordsTheManager) {
  EXPECT_EQ(server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(2, "app:1")),
            "deployment.apps/web serverside-applied\n");
  json web = get("deploy/web");
  EXPECT_EQ(web["spec"]["replicas"], 2);
  EXPECT_EQ(web["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"],
            "/dev/termination-log");
  auto owners = managers(web);
  ASSERT_TRUE(owners.contains("kubectl/Apply")) << web["metadata"].dump();
  const json& applied = owners["kubectl/Apply"];
  EXPECT_EQ(applied["apiVersion"], "apps/v1");
  EXPECT_EQ(applied["fieldsType"], "FieldsV1");
  EXPECT_TRUE(applied.contains("time"));
  // Exactly the applied fields: the defaulted terminationMessagePath belongs to nobody.
  EXPECT_EQ(applied["fieldsV1"], json::parse(R"({"f:spec":{"f:replicas":{},"f:selector":{},
    "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{
      "k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{
        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})"));

  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(2, "app:2"));
  web = get("deploy/web");
  EXPECT_EQ(web["spec"]["template"]["spec"]["containers"][0]["image"], "app:2");
  EXPECT_EQ(web["metadata"]["generation"], 2);

  // kubectl's own output drops managedFields unless asked.
  EXPECT_EQ(server_->kubectlOk({"get", "deploy", "web", "-o", "yaml"}).find("managedFields"),
            std::string::npos);
  std::string shown =
      server_->kubectlOk({"get", "deploy", "web", "-o", "yaml", "--show-managed-fields"});
  EXPECT_NE(shown.find("manager: kubectl\n"), std::string::npos) << shown;
  EXPECT_NE(shown.find("operation: Apply\n"), std::string::npos) << shown;

  // A ConfigMap from YAML, and a label from another manager recorded as an Update.
  server_->kubectlOk(
      {"apply", "--server-side", "-f", "-"},
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n");
  server_->kubectlOk({"label", "cm", "cfg", "tier=web"});
  json cfg = get("cm/cfg");
  EXPECT_EQ(cfg["data"], (json{{"a", "1"}}));
  auto cfgOwners = managers(cfg);
  EXPECT_EQ(cfgOwners["kubectl/Apply"]["fieldsV1"], json::parse(R"({"f:data":{"f:a":{}}})"));
  EXPECT_EQ(cfgOwners["kubectl-label/Update"]["fieldsV1"],
            json::parse(R"({"f:metadata":{"f:labels":{".":{},"f:tier":{}}}})"));
}

TEST_P(ServerSideApplyTest, ConflictsWithAnotherManagerUntilForced) {
  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(2, "app:1"));
  server_->kubectlOk({"scale", "deployment", "web", "--replicas=5"});
  EXPECT_TRUE(managers(get("deploy/web")).contains("kubectl/Update/scale"));

  KubectlResult refused =
      server_->kubectl({"apply", "--server-side", "-f", "-"}, deployment(3, "app:1"));
  EXPECT_EQ(refused.exitCode, 1);
  EXPECT_TRUE(refused.err.starts_with(
      "error: Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" "
      "using apps/v1: .spec.replicas\n"))
      << refused.err;
  EXPECT_EQ(get("deploy/web")["spec"]["replicas"], 5);

  // Applying the value it already has is no conflict: both own it.
  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(5, "app:1"));

  server_->kubectlOk({"apply", "--server-side", "--force-conflicts", "-f", "-"},
                     deployment(3, "app:1"));
  json web = get("deploy/web");
  EXPECT_EQ(web["spec"]["replicas"], 3);
  auto owners = managers(web);
  EXPECT_FALSE(owners.contains("kubectl/Update/scale")) << web["metadata"].dump();
  EXPECT_TRUE(owners["kubectl/Apply"]["fieldsV1"]["f:spec"].contains("f:replicas"));

  // Client-side apply records its manager; a server-side apply of another value conflicts
  // with it, named as kubectl prints it.
  std::string cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\ndata:\n  k: one\n";
  server_->kubectlOk({"apply", "-f", "-"}, cm);
  KubectlResult csa = server_->kubectl({"apply", "--server-side", "-f", "-"},
                                       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "
                                       "csa\ndata:\n  k: two\n");
  EXPECT_EQ(csa.exitCode, 1);
  EXPECT_NE(csa.err.find("conflict with \"kubectl-client-side-apply\" using v1: .data.k"),
            std::string::npos)
      << csa.err;
}

TEST_P(ServerSideApplyTest, FieldsDroppedFromTheConfigurationGo) {
  server_->kubectlOk({"apply", "--server-side", "-f", "-"},
                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels:\n    "
                     "team: a\ndata:\n  a: \"1\"\n  b: \"2\"\n");
  server_->kubectlOk(
      {"apply", "--server-side", "-f", "-"},
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n");
  json cfg = get("cm/cfg");
  EXPECT_EQ(cfg["data"], (json{{"a", "1"}}));
  EXPECT_FALSE(cfg["metadata"].contains("labels")) << cfg["metadata"].dump();

  // A field another manager also owns stays.
  server_->kubectlOk({"label", "cm", "cfg", "keep=yes"});
  server_->kubectlOk({"apply", "--server-side", "-f", "-"},
                     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  labels:\n    "
                     "keep: \"yes\"\ndata:\n  a: \"1\"\n");
  server_->kubectlOk(
      {"apply", "--server-side", "-f", "-"},
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n");
  EXPECT_EQ(get("cm/cfg")["metadata"]["labels"], (json{{"keep", "yes"}}));
}

TEST_P(ServerSideApplyTest, ContainersMergeByNameKeepingAnotherManagersContainer) {
  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(1, "app:1"));
  server_->kubectlOk({"patch", "deploy", "web", "-p",
                      R"({"spec":{"template":{"spec":{"containers":[
                          {"name":"sidecar","image":"side:1"}]}}}})"});
  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(1, "app:2"));
  json web = get("deploy/web");
  std::map<std::string, std::string> images;
  for (const json& c : web["spec"]["template"]["spec"]["containers"])
    images[c["name"]] = c["image"];
  EXPECT_EQ(images, (std::map<std::string, std::string>{{"app", "app:2"}, {"sidecar", "side:1"}}));
  auto owners = managers(web);
  EXPECT_TRUE(
      owners["kubectl-patch/Update"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
          .contains(R"(k:{"name":"sidecar"})"))
      << web["metadata"].dump();
}

TEST_P(ServerSideApplyTest, DryRunAndStatusSubresource) {
  server_->kubectlOk({"apply", "--server-side", "-f", "-"}, deployment(2, "app:1"));
  std::string dry = server_->kubectlOk(
      {"apply", "--server-side", "--dry-run=server", "-o", "jsonpath={.spec.replicas}", "-f", "-"},
      deployment(4, "app:1"));
  EXPECT_EQ(dry, "4");
  EXPECT_EQ(get("deploy/web")["spec"]["replicas"], 2);

  server_->kubectlOk(
      {"apply", "--server-side", "--subresource=status", "--field-manager=ctrl", "-f", "-"},
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nstatus:\n  "
      "observedGeneration: 1\n  replicas: 1\n");
  json web = get("deploy/web");
  EXPECT_EQ(web["status"]["replicas"], 1);
  auto owners = managers(web);
  ASSERT_TRUE(owners.contains("ctrl/Apply/status")) << web["metadata"].dump();
  EXPECT_EQ(owners["ctrl/Apply/status"]["fieldsV1"],
            json::parse(R"({"f:status":{"f:observedGeneration":{},"f:replicas":{}}})"));
  EXPECT_EQ(web["spec"]["replicas"], 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerSideApplyTest,
                         ::testing::Values(StoreBackend::kSqlite, StoreBackend::kEtcd),
                         [](const auto& info) {
                           return info.param == StoreBackend::kSqlite ? "Sqlite" : "Etcd";
                         });

}  // namespace
}  // namespace berth::testing
