#include "controlplane/schema/managed_fields.h"

#include <gtest/gtest.h>

#include "controlplane/schema/field_set.h"
#include "controlplane/schema/schema_test_util.h"
#include "controlplane/schema/typed_fields.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

constexpr std::string_view kDeploymentType = "io.k8s.api.apps.v1.Deployment";
constexpr std::string_view kConfigMapType = "io.k8s.api.core.v1.ConfigMap";

FieldSet setOf(std::string_view fieldsV1) {
  auto s = FieldSet::fromFieldsV1(json::parse(fieldsV1));
  EXPECT_TRUE(s) << s.error().message();
  return s ? *s : FieldSet{};
}

// What `kubectl apply --server-side` sends for a small Deployment.
json deploymentConfig(int replicas, std::string_view image) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "web"}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", "web"}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", "web"}}}}},
              {"spec",
               {{"containers",
                 json::array({{{"name", "app"},
                               {"image", image},
                               {"ports", json::array({{{"containerPort", 80}}})}}})}}}}}}}};
}

FieldManagerRequest request(std::string manager, std::string time = "2025-01-02T03:04:05Z") {
  return {std::move(manager), "apps/v1", "", true, std::move(time)};
}

TEST(FieldSetTest, FieldsV1RoundTrip) {
  constexpr std::string_view kFields = R"({
    "f:metadata":{"f:labels":{".":{},"f:app":{}}},
    "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{
      "k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:ports":{
        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}},
    "f:finalizers":{"v:\"x\"":{}}})";
  FieldSet s = setOf(kFields);
  EXPECT_EQ(s.toFieldsV1(), json::parse(kFields));
  EXPECT_TRUE(s.has({"f:metadata", "f:labels"}));
  EXPECT_TRUE(s.has({"f:metadata", "f:labels", "f:app"}));
  EXPECT_FALSE(s.has({"f:metadata"}));
  EXPECT_FALSE(s.has({"f:spec", "f:template"}));
  EXPECT_TRUE(s.has({"f:spec", "f:template", "f:spec", "f:containers", R"(k:{"name":"app"})"}));

  std::vector<std::string> paths;
  s.forEach([&](const FieldPath& p) { paths.push_back(fieldPathString(p)); });
  EXPECT_NE(
      std::ranges::find(
          paths,
          R"(.spec.template.spec.containers[name="app"].ports[containerPort=80,protocol="TCP"].containerPort)"),
      paths.end());
  EXPECT_NE(std::ranges::find(paths, R"(.finalizers[="x"])"), paths.end());
  EXPECT_NE(std::ranges::find(paths, ".spec.replicas"), paths.end());
}

TEST(FieldSetTest, RejectsMalformedElements) {
  for (std::string_view bad :
       {R"({"x:a":{}})", R"({"k:notjson":{}})", R"({"i:one":{}})", R"({"f:a":[]})"}) {
    EXPECT_FALSE(FieldSet::fromFieldsV1(json::parse(bad))) << bad;
  }
}

TEST(FieldSetTest, Algebra) {
  FieldSet a = setOf(R"({"f:a":{"f:b":{},"f:c":{}},"f:d":{}})");
  FieldSet b = setOf(R"({"f:a":{"f:c":{}},"f:e":{}})");
  EXPECT_EQ(a.unite(b).toFieldsV1(),
            json::parse(R"({"f:a":{"f:b":{},"f:c":{}},"f:d":{},"f:e":{}})"));
  EXPECT_EQ(a.minus(b).toFieldsV1(), json::parse(R"({"f:a":{"f:b":{}},"f:d":{}})"));
  EXPECT_EQ(a.intersect(b).toFieldsV1(), json::parse(R"({"f:a":{"f:c":{}}})"));
  EXPECT_EQ(a.withoutSubtree({"f:a"}).toFieldsV1(), json::parse(R"({"f:d":{}})"));
  EXPECT_EQ(a.onlySubtree({"f:a"}).toFieldsV1(), json::parse(R"({"f:a":{"f:b":{},"f:c":{}}})"));
  EXPECT_TRUE(a.minus(a).empty());
}

TEST(TypedFieldsTest, FieldSetOfAnApplyConfiguration) {
  auto set = fieldSetOf(deploymentConfig(2, "app:1"), builtinType(kDeploymentType));
  ASSERT_TRUE(set) << set.error().message();
  // Keyed items are members with their fields; the atomic selector is one leaf; a port's key
  // takes the protocol's default; struct fields holding values are not members themselves.
  EXPECT_EQ(set->toFieldsV1(), json::parse(R"({
    "f:apiVersion":{},"f:kind":{},
    "f:metadata":{"f:name":{},"f:namespace":{}},
    "f:spec":{"f:replicas":{},"f:selector":{},
      "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},
        "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},
          "f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}})"));
}

TEST(TypedFieldsTest, UndeclaredFieldsAndMissingKeysAreNamed) {
  json config = deploymentConfig(1, "x");
  config["spec"]["replica"] = 3;
  auto r = fieldSetOf(config, builtinType(kDeploymentType));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), ".spec.replica: field not declared in schema");

  config = deploymentConfig(1, "x");
  config["spec"]["template"]["spec"]["containers"][0].erase("name");
  r = fieldSetOf(config, builtinType(kDeploymentType));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(".spec.template.spec.containers: associative list with keys "
                                     "has an element that omits key field \"name\""),
            std::string::npos)
      << r.error().message();
}

TEST(TypedFieldsTest, MergeByListTypes) {
  struct Case {
    std::string_view name, live, config, merged;
  };
  const Case cases[] = {
      {"containers merge by name; live-only items stay where they were",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1","args":["x"]},{"name":"side","image":"s:1"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2"},{"name":"c","image":"c:1"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:2","args":["x"]},{"name":"side","image":"s:1"},{"name":"c","image":"c:1"}]}}}})"},
      {"ports keyed by port and protocol (defaulted)",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP","name":"http"},{"containerPort":80,"protocol":"UDP"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"hostPort":8080}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP","name":"http","hostPort":8080},{"containerPort":80,"protocol":"UDP"}]}]}}}})"},
      {"atomic lists and the atomic selector are replaced",
       R"({"spec":{"selector":{"matchLabels":{"a":"1","b":"2"}},"template":{"spec":{"containers":[{"name":"a","args":["x","y"]}]}}}})",
       R"({"spec":{"selector":{"matchLabels":{"a":"1"}},"template":{"spec":{"containers":[{"name":"a","args":["z"]}]}}}})",
       R"({"spec":{"selector":{"matchLabels":{"a":"1"}},"template":{"spec":{"containers":[{"name":"a","args":["z"]}]}}}})"},
      {"granular maps merge key by key; null unsets",
       R"({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"replicas":1,"paused":true}})",
       R"({"metadata":{"labels":{"c":"3"}},"spec":{"paused":null}})",
       R"({"metadata":{"labels":{"a":"1","b":"2","c":"3"}},"spec":{"replicas":1}})"},
      {"set lists are unions", R"({"metadata":{"finalizers":["a","b"]}})",
       R"({"metadata":{"finalizers":["c","a"]}})", R"({"metadata":{"finalizers":["c","a","b"]}})"},
  };
  for (const Case& c : cases) {
    auto merged =
        mergeObjects(json::parse(c.live), json::parse(c.config), builtinType(kDeploymentType));
    ASSERT_TRUE(merged) << c.name << ": " << merged.error().message();
    EXPECT_EQ(*merged, json::parse(c.merged)) << c.name << ": " << merged->dump();
  }
}

TEST(TypedFieldsTest, CompareMarksNewParents) {
  auto diff = compareObjects(json::parse(R"({"metadata":{"labels":{"a":"1"}},"data":{"k":"v"}})"),
                             json::parse(R"({"metadata":{"labels":{"a":"2","b":"1"}}})"),
                             builtinType(kConfigMapType));
  ASSERT_TRUE(diff) << diff.error().message();
  EXPECT_EQ(diff->added.toFieldsV1(), json::parse(R"({"f:metadata":{"f:labels":{"f:b":{}}}})"));
  EXPECT_EQ(diff->modified.toFieldsV1(), json::parse(R"({"f:metadata":{"f:labels":{"f:a":{}}}})"));
  EXPECT_EQ(diff->removed.toFieldsV1(), json::parse(R"({"f:data":{".":{},"f:k":{}}})"));
}

TEST(ManagedFieldsTest, CreateRecordsWhatTheWriterSetAsUpstreamDoes) {
  json created = deploymentConfig(1, "app:1");
  created["spec"]["strategy"] = {{"type", "RollingUpdate"},
                                 {"rollingUpdate", {{"maxSurge", "25%"}}}};
  created["metadata"]["labels"] = {{"app", "web"}};
  auto r = recordUpdate(nullptr, created, builtinType(kDeploymentType), request("kubectl-create"));
  ASSERT_TRUE(r) << r.error().message();
  // Fields absent from the zero Deployment get "." (labels, rollingUpdate, the container); the
  // non-pointer structs (spec, strategy, template) do not.
  EXPECT_EQ((*r)["metadata"]["managedFields"], json::parse(R"([{
    "manager":"kubectl-create","operation":"Update","apiVersion":"apps/v1",
    "time":"2025-01-02T03:04:05Z","fieldsType":"FieldsV1","fieldsV1":{
      "f:metadata":{"f:labels":{".":{},"f:app":{}}},
      "f:spec":{"f:replicas":{},"f:selector":{},
        "f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{}},"f:type":{}},
        "f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},
          "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},
            "f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}}])"));
}

TEST(ManagedFieldsTest, UpdateTakesChangedFieldsFromOthers) {
  const TypeDef& type = builtinType(kDeploymentType);
  auto applied = applyConfiguration(nullptr, deploymentConfig(2, "app:1"), type,
                                    request("kubectl", "2025-01-01T00:00:00Z"), false);
  ASSERT_TRUE(applied) << applied.error().message();
  json scaled = applied->object;
  scaled["spec"]["replicas"] = 5;
  FieldManagerRequest scale = request("kubectl-scale");
  scale.subresource = "scale";
  auto r = recordUpdate(applied->object, scaled, type, scale);
  ASSERT_TRUE(r) << r.error().message();
  auto entries = decodeManagedFields(*r);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].operation, "Apply");
  EXPECT_FALSE((*entries)[0].fields.has({"f:spec", "f:replicas"}));
  EXPECT_TRUE((*entries)[0].fields.has({"f:spec", "f:selector"}));
  EXPECT_EQ((*entries)[1].manager, "kubectl-scale");
  EXPECT_EQ((*entries)[1].subresource, "scale");
  EXPECT_EQ((*entries)[1].fields.toFieldsV1(), json::parse(R"({"f:spec":{"f:replicas":{}}})"));
}

TEST(ManagedFieldsTest, ApplyConflictsWithAnotherManagerUnlessForced) {
  const TypeDef& type = builtinType(kDeploymentType);
  json live = deploymentConfig(3, "app:1");
  live = *recordUpdate(nullptr, live, type, request("kubectl-client-side-apply"));

  // The same value is no conflict: both own it.
  auto same =
      applyConfiguration(live, deploymentConfig(3, "app:1"), type, request("kubectl"), false);
  ASSERT_TRUE(same) << same.error().message();
  EXPECT_TRUE(same->conflicts.empty());
  auto shared = decodeManagedFields(same->object);
  ASSERT_EQ(shared->size(), 2u);
  EXPECT_TRUE((*shared)[0].fields.has({"f:spec", "f:replicas"}));
  EXPECT_TRUE((*shared)[1].fields.has({"f:spec", "f:replicas"}));

  auto refused =
      applyConfiguration(live, deploymentConfig(4, "app:2"), type, request("kubectl"), false);
  ASSERT_TRUE(refused) << refused.error().message();
  ASSERT_EQ(refused->conflicts.size(), 2u);
  EXPECT_EQ(refused->conflicts[0].manager, R"("kubectl-client-side-apply" using apps/v1)");
  EXPECT_EQ(refused->conflicts[0].field, ".spec.replicas");
  EXPECT_EQ(refused->conflicts[1].field, R"(.spec.template.spec.containers[name="app"].image)");
  EXPECT_EQ(refused->conflictMessage,
            "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using "
            "apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"app\"].image");

  auto forced =
      applyConfiguration(live, deploymentConfig(4, "app:2"), type, request("kubectl"), true);
  ASSERT_TRUE(forced) << forced.error().message();
  EXPECT_TRUE(forced->conflicts.empty());
  EXPECT_EQ(forced->object["spec"]["replicas"], 4);
  auto moved = decodeManagedFields(forced->object);
  ASSERT_EQ(moved->size(), 2u);
  EXPECT_EQ((*moved)[0].manager, "kubectl");
  EXPECT_TRUE((*moved)[0].fields.has({"f:spec", "f:replicas"}));
  EXPECT_FALSE((*moved)[1].fields.has({"f:spec", "f:replicas"}));
  EXPECT_TRUE((*moved)[1].fields.has({"f:spec", "f:selector"}));
}

TEST(ManagedFieldsTest, ApplyRemovesWhatItNoLongerAppliesUnlessOthersOwnIt) {
  const TypeDef& type = builtinType(kConfigMapType);
  json config = json::parse(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"team":"a"}},
          "data":{"a":"1","b":"2","c":"3"}})");
  FieldManagerRequest cm{"kubectl", "v1", "", false, "2025-01-01T00:00:00Z"};
  auto first = applyConfiguration(nullptr, config, type, cm, false);
  ASSERT_TRUE(first);
  // Another manager takes over c with an update.
  json edited = first->object;
  edited["data"]["c"] = "30";
  FieldManagerRequest edit{"kubectl-edit", "v1", "", false, "2025-01-01T00:00:01Z"};
  json live = *recordUpdate(first->object, edited, type, edit);

  config["data"] = {{"a", "1"}};
  config["metadata"].erase("labels");
  auto second = applyConfiguration(live, config, type, cm, false);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->conflicts.empty());
  EXPECT_EQ(second->object["data"], json::parse(R"({"a":"1","c":"30"})"));
  // The emptied labels map goes with its last key.
  EXPECT_FALSE(second->object["metadata"].contains("labels")) << second->object.dump();
  auto entries = decodeManagedFields(second->object);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].fields.toFieldsV1(), json::parse(R"({"f:data":{"f:a":{}}})"));
  EXPECT_EQ((*entries)[1].fields.toFieldsV1(), json::parse(R"({"f:data":{"f:c":{}}})"));
}

TEST(ManagedFieldsTest, StatusWritesOwnOnlyStatus) {
  const TypeDef& type = builtinType(kDeploymentType);
  json live = deploymentConfig(1, "a");
  json updated = live;
  updated["status"] = {{"replicas", 1}};
  updated["spec"]["replicas"] = 9;  // not the status writer's to own
  FieldManagerRequest status = request("controller");
  status.subresource = "status";
  auto r = recordUpdate(live, updated, type, status);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["metadata"]["managedFields"][0]["subresource"], "status");
  EXPECT_EQ((*r)["metadata"]["managedFields"][0]["fieldsV1"],
            json::parse(R"({"f:status":{".":{},"f:replicas":{}}})"));
}

TEST(ManagedFieldsTest, ManagerFromUserAgent) {
  EXPECT_EQ(managerFromUserAgent("kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9"), "kubectl");
  EXPECT_EQ(managerFromUserAgent("curl/8.0"), "curl");
  EXPECT_EQ(managerFromUserAgent(std::string(200, 'a')).size(), 128u);
  EXPECT_EQ(managerFromUserAgent("a\tb"), "ab");
}

}  // namespace
}  // namespace berth::controlplane::schema
