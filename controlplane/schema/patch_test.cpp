#include "controlplane/schema/patch.h"

#include <gtest/gtest.h>

#include "controlplane/schema/registry.h"
#include "controlplane/schema/schema_test_util.h"

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

struct PatchCase {
  std::string_view name;
  std::string_view original;
  std::string_view patch;
  std::string_view result;  // empty: an error whose message contains `error`
  std::string_view error = "";
  Code code = Code::kOk;
};

void expectCase(const PatchCase& c, const Result<json>& r) {
  if (c.result.empty()) {
    ASSERT_FALSE(r) << c.name << ": " << r->dump();
    EXPECT_NE(r.error().message().find(c.error), std::string::npos)
        << c.name << ": " << r.error().message();
    if (c.code != Code::kOk) {
      EXPECT_EQ(r.error().code(), c.code) << c.name;
    }
    return;
  }
  ASSERT_TRUE(r) << c.name << ": " << r.error().message();
  EXPECT_EQ(*r, json::parse(c.result)) << c.name << ": " << r->dump();
}

TEST(JsonPatchTest, AppliesAsEvanphxJsonPatch) {
  const PatchCase cases[] = {
      {"add", R"({"a":1})", R"([{"op":"add","path":"/b","value":2}])", R"({"a":1,"b":2})"},
      {"add to list", R"({"l":[1,3]})", R"([{"op":"add","path":"/l/1","value":2}])",
       R"({"l":[1,2,3]})"},
      {"append", R"({"l":[1]})", R"([{"op":"add","path":"/l/-","value":2}])", R"({"l":[1,2]})"},
      {"negative index", R"({"l":[1,2,3]})", R"([{"op":"remove","path":"/l/-1"}])",
       R"({"l":[1,2]})"},
      {"escaped key", R"({"metadata":{"labels":{"a/b":"x","c~d":"y"}}})",
       R"([{"op":"remove","path":"/metadata/labels/a~1b"},{"op":"replace","path":"/metadata/labels/c~0d","value":"z"}])",
       R"({"metadata":{"labels":{"c~d":"z"}}})"},
      {"replace adds a missing object key", R"({"a":1})",
       R"([{"op":"replace","path":"/b","value":2}])", R"({"a":1,"b":2})"},
      {"move", R"({"a":{"x":1},"b":{}})", R"([{"op":"move","from":"/a/x","path":"/b/y"}])",
       R"({"a":{},"b":{"y":1}})"},
      {"copy", R"({"a":[1]})", R"([{"op":"copy","from":"/a/0","path":"/b"}])",
       R"({"a":[1],"b":1})"},
      {"test passes", R"({"a":"x"})",
       R"([{"op":"test","path":"/a","value":"x"},{"op":"add","path":"/b","value":1}])",
       R"({"a":"x","b":1})"},
      {"test fails", R"({"a":"x"})", R"([{"op":"test","path":"/a","value":"y"}])", "",
       "testing value /a failed: test failed", Code::kFailedPrecondition},
      {"remove missing", R"({"a":1})", R"([{"op":"remove","path":"/b"}])", "",
       "error in remove for path: '/b': Unable to remove nonexistent key: b: missing value"},
      {"missing parent", R"({})", R"([{"op":"add","path":"/a/b","value":1}])", "",
       R"(add operation does not apply: doc is missing path: "/a/b": missing value)"},
      {"index out of range", R"({"l":[1]})", R"([{"op":"add","path":"/l/5","value":2}])", "",
       "error in add for path: '/l/5': Unable to access invalid index: 5: invalid index "
       "referenced"},
      {"unknown op", R"({})", R"([{"op":"frob","path":"/a"}])", "", "Unexpected kind: frob"},
      {"not a list", R"({})", R"({"op":"add"})", "",
       "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
       Code::kInvalidArgument},
  };
  for (const PatchCase& c : cases)
    expectCase(c, applyJsonPatch(json::parse(c.original), c.patch));
}

TEST(MergePatchTest, AppliesRfc7386) {
  const PatchCase cases[] = {
      {"merge", R"({"a":{"b":1,"c":2},"d":[1,2]})", R"({"a":{"b":null,"e":3},"d":[3]})",
       R"({"a":{"c":2,"e":3},"d":[3]})"},
      {"new value loses its nulls", R"({})", R"({"a":{"b":null,"c":1}})", R"({"a":{"c":1}})"},
      {"replacing a scalar prunes", R"({"a":1})", R"({"a":{"b":null,"c":1}})", R"({"a":{"c":1}})"},
      {"null patch", R"({})", "null", "", "Invalid JSON Patch", Code::kInvalidArgument},
  };
  for (const PatchCase& c : cases)
    expectCase(c, applyMergePatch(json::parse(c.original), c.patch));
}

constexpr std::string_view kDeployment = "io.k8s.api.apps.v1.Deployment";
TEST(StrategicMergePatchTest, MergesListsByTheirKeys) {
  const PatchCase cases[] = {
      {"one container changes, not the list",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"b","image":"b:2"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:2"}]}}}})"},
      // Without $setElementOrder (kubectl apply sends one), patch items come before the ones
      // only the server has: upstream's mergeSortedSlice.
      {"new item goes first", R"({"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c"},{"name":"a"}]}}}})"},
      {"$patch delete an item",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"b"}]}}}})"},
      {"$patch replace the list",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"z"},{"$patch":"replace"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"z"}]}}}})"},
      {"atomic list replaced",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["1","2"]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["3"]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","args":["3"]}]}}}})"},
      {"nested merge key (env by name)",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"Y","value":"3"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"name":"Y","value":"3"}]}]}}}})"},
      {"null deletes a field", R"({"spec":{"replicas":3,"paused":true}})",
       R"({"spec":{"paused":null}})", R"({"spec":{"replicas":3}})"},
      {"unmatched nulls ignored", R"({"spec":{}})", R"({"spec":{"x":{"a":null,"b":1}}})",
       R"({"spec":{"x":{"b":1}}})"},
      {"labels merge as a map", R"({"metadata":{"labels":{"a":"1","b":"2"}}})",
       R"({"metadata":{"labels":{"b":null,"c":"3"}}})",
       R"({"metadata":{"labels":{"a":"1","c":"3"}}})"},
  };
  for (const PatchCase& c : cases)
    expectCase(
        c, applyStrategicMergePatch(json::parse(c.original), c.patch, builtinType(kDeployment)));
}

// What `kubectl apply` sends after one container's image was edited in the manifest: the new
// image, the list order, and the new last-applied annotation. Only that container changes.
TEST(StrategicMergePatchTest, KubectlApplyOfAnEditedDeployment) {
  json live = json::parse(R"({"metadata":{"name":"web","annotations":{"a":"1"}},
      "spec":{"replicas":2,"template":{"spec":{"containers":[
        {"name":"app","image":"app:1","ports":[{"containerPort":80,"protocol":"TCP"}],
         "terminationMessagePath":"/dev/termination-log"},
        {"name":"sidecar","image":"side:1","terminationMessagePath":"/dev/termination-log"}]}}},
      "status":{"replicas":2}})");
  std::string_view patch = R"({"metadata":{"annotations":{"a":"2"}},
      "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],
      "containers":[{"image":"side:2","name":"sidecar"}]}}}})";
  auto r = applyStrategicMergePatch(live, patch, builtinType(kDeployment));
  ASSERT_TRUE(r) << r.error().message();
  json want = live;
  want["metadata"]["annotations"]["a"] = "2";
  want["spec"]["template"]["spec"]["containers"][1]["image"] = "side:2";
  EXPECT_EQ(*r, want) << r->dump();
}

TEST(StrategicMergePatchTest, Directives) {
  const PatchCase cases[] = {
      {"$patch replace on a map", R"({"metadata":{"labels":{"a":"1"}}})",
       R"({"metadata":{"labels":{"b":"2","$patch":"replace"}}})",
       R"({"metadata":{"labels":{"b":"2"}}})"},
      {"$patch delete on a map", R"({"metadata":{"labels":{"a":"1"}},"spec":{}})",
       R"({"metadata":{"labels":{"$patch":"delete"}}})", R"({"metadata":{"labels":{}},"spec":{}})"},
      {"$patch merge on a map is an error", R"({"metadata":{"labels":{}}})",
       R"({"metadata":{"labels":{"$patch":"merge"}}})", "",
       "unknown patch type: merge in map: map[$patch:merge]"},
      {"$retainKeys clears the others",
       R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
       R"({"spec":{"strategy":{"type":"Recreate"}}})"},
      {"$retainKeys must list the patched fields", R"({"spec":{"strategy":{}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})", "",
       "invalid patch format of retainKeys", Code::kInvalidArgument},
      {"$setElementOrder",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"c"}]}}}})",
       R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"},{"name":"a"},{"name":"b"}],
           "containers":[{"name":"c","image":"x"}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x"},{"name":"a"},{"name":"b"}]}}}})"},
  };
  for (const PatchCase& c : cases)
    expectCase(
        c, applyStrategicMergePatch(json::parse(c.original), c.patch, builtinType(kDeployment)));
}

TEST(StrategicMergePatchTest, PrimitiveListsWithTheMergeStrategy) {
  // metadata.finalizers merges as a set of strings; $deleteFromPrimitiveList removes items.
  const PatchCase cases[] = {
      {"union", R"({"metadata":{"finalizers":["a","b"]}})",
       R"({"metadata":{"finalizers":["c","a"]}})", R"({"metadata":{"finalizers":["c","a","b"]}})"},
      {"delete from the list", R"({"metadata":{"finalizers":["a","b","c"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}})",
       R"({"metadata":{"finalizers":["a","c"]}})"},
      {"bad delete directive", R"({"metadata":{"finalizers":["a"]}})",
       R"({"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}})", "",
       "invalid patch format of primitive list", Code::kInvalidArgument},
  };
  for (const PatchCase& c : cases)
    expectCase(
        c, applyStrategicMergePatch(json::parse(c.original), c.patch, builtinType(kPodTypeName)));
}

TEST(StrategicMergePatchTest, ErrorsFromTheSchema) {
  const PatchCase cases[] = {
      {"missing merge key", R"({"spec":{"containers":[{"name":"a"}]}})",
       R"({"spec":{"containers":[{"image":"x"}]}})", "",
       "map: map[image:x] does not contain declared merge key: name"},
      {"unknown struct field merged as an object", R"({"spec":{"bogus":{"a":1}}})",
       R"({"spec":{"bogus":{"b":2}}})", "",
       R"(unable to find api field in struct PodSpec for the json field "bogus")"},
      {"a list new to the object is taken as is",
       R"({"spec":{"containers":[{"name":"a","command":[["x"]]}]}})",
       R"({"metadata":{"finalizers":[["x"]]},"spec":{}})",
       R"({"metadata":{"finalizers":[["x"]]},"spec":{"containers":[{"name":"a","command":[["x"]]}]}})"},
  };
  for (const PatchCase& c : cases)
    expectCase(
        c, applyStrategicMergePatch(json::parse(c.original), c.patch, builtinType(kPodTypeName)));
}

TEST(PatchStrictErrorsTest, ReportsWhatTheApiserverDecodesStrictly) {
  auto jp = patchStrictErrors(PatchType::kJson,
                              R"([{"op":"add","path":"/a","value":1,"foo":2,"op":"add"}])");
  ASSERT_TRUE(jp) << jp.error().message();
  EXPECT_EQ(*jp, (std::vector<std::string>{R"(json patch unknown field "[0].foo")",
                                           R"(json patch duplicate field "[0].op")"}));
  auto bad = patchStrictErrors(PatchType::kJson, R"([{"op":1}])");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "error decoding patch: json: cannot unmarshal number into Go struct field "
            "jsonPatchOp.op of type string");
  auto smp = patchStrictErrors(PatchType::kStrategicMerge,
                               R"({"spec":{"replicas":1,"replicas":2,"l":[{"a":1,"a":2}]}})");
  ASSERT_TRUE(smp) << smp.error().message();
  EXPECT_EQ(*smp, (std::vector<std::string>{R"(duplicate field "spec.replicas")",
                                            R"(duplicate field "spec.l[0].a")"}));
  EXPECT_FALSE(patchStrictErrors(PatchType::kMerge, "[1]"));
}

TEST(PatchTypeTest, FromContentType) {
  EXPECT_EQ(patchTypeFromContentType("application/json-patch+json"), PatchType::kJson);
  EXPECT_EQ(patchTypeFromContentType("application/merge-patch+json; charset=utf-8"),
            PatchType::kMerge);
  EXPECT_EQ(patchTypeFromContentType("application/strategic-merge-patch+json"),
            PatchType::kStrategicMerge);
  EXPECT_EQ(patchTypeFromContentType("application/apply-patch+yaml"), PatchType::kApply);
  EXPECT_FALSE(patchTypeFromContentType("application/json"));
}

}  // namespace
}  // namespace berth::controlplane::schema
