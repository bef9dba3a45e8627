#include "kubeapi/object_meta.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

nlohmann::json pod() {
  return nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "42",
                 "generation": 3, "labels": {"app": "web"}, "annotations": {"a": "1"},
                 "finalizers": ["f1"], "creationTimestamp": "2024-05-01T10:20:30Z",
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                      "name": "rs", "uid": "u0", "controller": true}],
                 "futureField": {"kept": true}},
    "spec": {"unknownToUs": [1, 2, 3]}
  })");
}

TEST(ObjectMeta, Reads) {
  auto p = pod();
  EXPECT_EQ(apiVersionOf(p), "v1");
  EXPECT_EQ(kindOf(p), "Pod");
  EXPECT_EQ(gvkOf(p), (GroupVersionKind{"", "v1", "Pod"}));
  EXPECT_EQ(nameOf(p), "p");
  EXPECT_EQ(namespaceOf(p), "ns");
  EXPECT_EQ(uidOf(p), "u1");
  EXPECT_EQ(resourceVersionOf(p), "42");
  EXPECT_EQ(generationOf(p), 3);
  EXPECT_EQ(labelsOf(p), (LabelMap{{"app", "web"}}));
  EXPECT_EQ(annotationOf(p, "a"), "1");
  EXPECT_EQ(annotationOf(p, "b"), std::nullopt);
  EXPECT_EQ(finalizersOf(p), std::vector<std::string>{"f1"});
  EXPECT_TRUE(hasFinalizer(p, "f1"));
  ASSERT_TRUE(creationTimestampOf(p));
  EXPECT_EQ(formatTime(*creationTimestampOf(p)), "2024-05-01T10:20:30Z");
  EXPECT_FALSE(deletionTimestampOf(p));
  auto owner = controllerOf(p);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->name, "rs");
  EXPECT_EQ(objectKey(p), "ns/p");
  EXPECT_EQ(objectKey("", "node1"), "node1");

  nlohmann::json junk = {{"metadata", {{"name", 5}, {"labels", "x"}}}};
  EXPECT_EQ(nameOf(junk), "");
  EXPECT_TRUE(labelsOf(junk).empty());
  EXPECT_EQ(nameOf(nlohmann::json()), "");
}

TEST(ObjectMeta, WritesKeepUnknownFields) {
  auto p = pod();
  setLabel(p, "tier", "front");
  removeLabel(p, "app");
  removeAnnotation(p, "a");
  EXPECT_TRUE(addFinalizer(p, "f2"));
  EXPECT_FALSE(addFinalizer(p, "f2"));
  EXPECT_TRUE(removeFinalizer(p, "f1"));
  EXPECT_TRUE(removeFinalizer(p, "f2"));
  EXPECT_FALSE(removeFinalizer(p, "f2"));
  setResourceVersion(p, "43");
  setDeletionTimestamp(p, parseTime("2024-05-01T11:00:00Z").value());
  setDeletionGracePeriodSeconds(p, 30);
  setOwnerReferences(p, {});
  setGeneration(p, 4);

  const auto& meta = p["metadata"];
  EXPECT_EQ(meta["labels"], (nlohmann::json{{"tier", "front"}}));
  EXPECT_FALSE(meta.contains("annotations"));  // the last entry took the map with it
  EXPECT_FALSE(meta.contains("finalizers"));
  EXPECT_FALSE(meta.contains("ownerReferences"));
  EXPECT_EQ(meta["resourceVersion"], "43");
  EXPECT_EQ(meta["deletionTimestamp"], "2024-05-01T11:00:00Z");
  EXPECT_EQ(deletionGracePeriodSecondsOf(p), 30);
  EXPECT_EQ(generationOf(p), 4);
  EXPECT_EQ(meta["futureField"], (nlohmann::json{{"kept", true}}));
  EXPECT_EQ(p["spec"]["unknownToUs"], (nlohmann::json{1, 2, 3}));

  nlohmann::json fresh;
  setTypeMeta(fresh, {"apps", "v1", "Deployment"});
  setName(fresh, "d");
  setCreationTimestamp(fresh, std::nullopt);
  EXPECT_EQ(fresh, nlohmann::json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",)"
                                         R"("metadata":{"name":"d","creationTimestamp":null}})"));
}

}  // namespace
}  // namespace berth::kubeapi
