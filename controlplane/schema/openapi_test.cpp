#include "controlplane/schema/openapi.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controlplane/schema/served_fixture.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

class OpenApiTest : public ::testing::Test {
 protected:
  OpenApi api{Registry::builtin(), servedFixture(), "v1.32.0"};

  json v3(std::string_view name) {
    auto doc = api.v3(name);
    EXPECT_TRUE(doc) << name;
    return doc ? json::parse(*doc) : json();
  }
  static std::vector<std::string> paramNames(const json& op, const json& item) {
    std::vector<std::string> names;
    for (const json* list : {&op, &item})
      if (list->contains("parameters"))
        for (const json& p : (*list)["parameters"])
          names.push_back(p["name"]);
    std::ranges::sort(names);
    return names;
  }
};

// kubectl decides that the server validates fields by finding fieldValidation among the
// parameters of the namespace PATCH operation of /openapi/v3/api/v1.
TEST_F(OpenApiTest, NamespacePatchOffersFieldValidation) {
  json doc = v3("api/v1");
  const json& item = doc["paths"]["/api/v1/namespaces/{name}"];
  const json& patch = item["patch"];
  EXPECT_EQ(patch["operationId"], "patchCoreV1Namespace");
  EXPECT_EQ(patch["x-kubernetes-action"], "patch");
  EXPECT_EQ(patch["x-kubernetes-group-version-kind"],
            (json{{"group", ""}, {"version", "v1"}, {"kind", "Namespace"}}));
  EXPECT_EQ(paramNames(patch, item),
            (std::vector<std::string>{"dryRun", "fieldManager", "fieldValidation", "force", "name",
                                      "pretty"}));
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/strategic-merge-patch+json"));
  EXPECT_TRUE(patch["requestBody"]["content"].contains("application/apply-patch+yaml"));
}

TEST_F(OpenApiTest, OperationsFollowUpstreamNames) {
  struct Case {
    std::string_view doc, path, method, operationId, action;
  };
  const Case cases[] = {
      {"api/v1", "/api/v1/namespaces/{namespace}/pods", "get", "listCoreV1NamespacedPod", "list"},
      {"api/v1", "/api/v1/namespaces/{namespace}/pods", "post", "createCoreV1NamespacedPod",
       "post"},
      {"api/v1", "/api/v1/namespaces/{namespace}/pods", "delete",
       "deleteCoreV1CollectionNamespacedPod", "deletecollection"},
      {"api/v1", "/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", "list"},
      {"api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/status", "patch",
       "patchCoreV1NamespacedPodStatus", "patch"},
      {"api/v1", "/api/v1/namespaces/{namespace}/pods/{name}/exec", "post",
       "connectCoreV1PostNamespacedPodExec", "connect"},
      {"api/v1", "/api/v1/watch/namespaces/{namespace}/pods/{name}", "get",
       "watchCoreV1NamespacedPod", "watch"},
      {"api/v1", "/api/v1/nodes/{name}/proxy/{path}", "get", "connectCoreV1GetNodeProxyWithPath",
       "connect"},
      {"apis/apps/v1", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "put",
       "replaceAppsV1NamespacedDeploymentScale", "put"},
      {"apis/rbac.authorization.k8s.io/v1", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
       "get", "listRbacAuthorizationV1ClusterRole", "list"},
      {"apis/authorization.k8s.io/v1", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
       "post", "createAuthorizationV1SelfSubjectAccessReview", "post"},
  };
  for (const Case& c : cases) {
    json doc = v3(c.doc);
    ASSERT_TRUE(doc["paths"].contains(c.path)) << c.path;
    const json& op = doc["paths"][std::string(c.path)][std::string(c.method)];
    EXPECT_EQ(op["operationId"], c.operationId) << c.path;
    EXPECT_EQ(op["x-kubernetes-action"], c.action) << c.path;
  }
}

TEST_F(OpenApiTest, ScaleOperationsNameTheAutoscalingKind) {
  json doc = v3("apis/apps/v1");
  const json& get =
      doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/scale"]["get"];
  EXPECT_EQ(get["x-kubernetes-group-version-kind"],
            (json{{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}));
  EXPECT_TRUE(doc["components"]["schemas"].contains("io.k8s.api.autoscaling.v1.Scale"));
}

TEST_F(OpenApiTest, V3SchemasCarryMergeKeysGvksAndDefaults) {
  json doc = v3("apis/apps/v1");
  const json& schemas = doc["components"]["schemas"];
  const json& deployment = schemas["io.k8s.api.apps.v1.Deployment"];
  EXPECT_EQ(deployment["x-kubernetes-group-version-kind"][0],
            (json{{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}));
  EXPECT_EQ(deployment["properties"]["spec"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec");
  EXPECT_EQ(deployment["properties"]["spec"]["default"], json::object());
  const json& containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
  EXPECT_EQ(containers["x-kubernetes-patch-merge-key"], "name");
  EXPECT_EQ(containers["x-kubernetes-patch-strategy"], "merge");
  EXPECT_EQ(containers["x-kubernetes-list-type"], "map");
  EXPECT_EQ(containers["items"]["default"], json::object());
  EXPECT_EQ(schemas["io.k8s.api.core.v1.ContainerPort"]["properties"]["protocol"]["default"],
            "TCP");
  EXPECT_EQ(schemas["io.k8s.api.core.v1.Container"]["properties"]["name"]["default"], "");
  EXPECT_FALSE(schemas["io.k8s.api.core.v1.Container"]["properties"]["image"].contains("default"));
  EXPECT_TRUE(schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"].contains("oneOf"));
  // Only what the group version reaches.
  EXPECT_FALSE(schemas.contains("io.k8s.api.batch.v1.Job"));
}

TEST_F(OpenApiTest, V2PublishesEveryDescribedTypeButTables) {
  json doc = json::parse(api.v2());
  const json& defs = doc["definitions"];
  EXPECT_EQ(doc["swagger"], "2.0");
  EXPECT_EQ(doc["info"]["version"], "v1.32.0");
  EXPECT_EQ(defs["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["$ref"],
            "#/definitions/io.k8s.api.core.v1.PodSpec");
  EXPECT_FALSE(defs["io.k8s.api.core.v1.Pod"]["properties"]["spec"].contains("default"));
  EXPECT_FALSE(defs.contains("io.k8s.apimachinery.pkg.apis.meta.v1.Table"));
  // DeleteOptions is a kind of every served group version.
  json kinds =
      defs["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]["x-kubernetes-group-version-kind"];
  EXPECT_TRUE(std::ranges::find(
                  kinds, json{{"group", "apps"}, {"version", "v1"}, {"kind", "DeleteOptions"}}) !=
              kinds.end());
  EXPECT_TRUE(std::ranges::find(
                  kinds, json{{"group", "batch"}, {"version", "v2"}, {"kind", "DeleteOptions"}}) ==
              kinds.end());
  const json& del = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["delete"];
  EXPECT_EQ(del["responses"]["200"]["schema"]["$ref"], "#/definitions/io.k8s.api.core.v1.Pod");
  const json& delCm = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["delete"];
  EXPECT_EQ(delCm["responses"]["200"]["schema"]["$ref"],
            "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Status");
}

TEST_F(OpenApiTest, IndexNamesEveryDocumentWithItsHash) {
  json index = json::parse(api.v3Index());
  std::vector<std::string> names = api.v3Names();
  ASSERT_EQ(index["paths"].size(), names.size());
  for (std::string_view name : {"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "version"}) {
    ASSERT_TRUE(index["paths"].contains(name)) << name;
    std::string url = index["paths"][std::string(name)]["serverRelativeURL"];
    EXPECT_EQ(url, fmt::format("/openapi/v3/{}?hash={}", name, *api.v3Hash(name)));
  }
  EXPECT_EQ(api.v3Hash("api/v1")->size(), 128u);  // SHA-512, hex
  EXPECT_FALSE(api.v3("apis/nope/v1"));
  EXPECT_FALSE(api.v3Hash("apis/nope/v1"));
}

}  // namespace
}  // namespace berth::controlplane::schema
