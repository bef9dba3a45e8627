#include "kubelet/volume/downward_api.h"

#include <gtest/gtest.h>

namespace berth::kubelet::volume {
namespace {
using nlohmann::json;

const json kPod = json::parse(R"({
  "metadata": {"name": "web", "namespace": "prod", "uid": "1234-abcd",
               "labels": {"tier": "front", "app": "web"},
               "annotations": {"note": "say \"hi\"\n", "empty": ""}},
  "spec": {
    "containers": [
      {"name": "app", "resources": {"limits": {"cpu": "500m", "memory": "128Mi"},
                                    "requests": {"cpu": "250m", "memory": "64Mi"}}},
      {"name": "sidecar"}
    ],
    "initContainers": [{"name": "init", "resources": {"limits": {"hugepages-2Mi": "4Mi"}}}]
  }
})");
const json kAllocatable =
    json::parse(R"({"cpu": "3500m", "memory": "7Gi", "ephemeral-storage": "100G"})");

TEST(DownwardApiFieldRef, Table) {
  struct Case {
    const char* fieldPath;
    const char* want;
  } cases[] = {
      {"metadata.name", "web"},
      {"metadata.namespace", "prod"},
      {"metadata.uid", "1234-abcd"},
      {"metadata.labels", "app=\"web\"\ntier=\"front\""},
      {"metadata.annotations", "empty=\"\"\nnote=\"say \\\"hi\\\"\\n\""},
      {"metadata.labels['tier']", "front"},
      {"metadata.annotations['missing']", ""},
  };
  for (const auto& c : cases) {
    auto got = downwardApiFieldValue(kPod, c.fieldPath);
    ASSERT_TRUE(got) << c.fieldPath << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.fieldPath;
  }
  auto bad = downwardApiFieldValue(kPod, "spec.nodeName");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "unsupported fieldPath: spec.nodeName");
  auto sub = downwardApiFieldValue(kPod, "metadata.name['x']");
  ASSERT_FALSE(sub);
  EXPECT_EQ(sub.error().message(), "fieldPath \"metadata.name['x']\" does not support subscript");
}

TEST(DownwardApiResourceFieldRef, Table) {
  struct Case {
    const char* ref;
    const char* want;
  } cases[] = {
      {R"({"containerName": "app", "resource": "limits.cpu"})", "1"},  // 0.5 rounded up
      {R"({"containerName": "app", "resource": "limits.cpu", "divisor": "1m"})", "500"},
      {R"({"containerName": "app", "resource": "requests.cpu", "divisor": "100m"})", "3"},
      {R"({"containerName": "app", "resource": "limits.memory"})", "134217728"},
      {R"({"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"})", "128"},
      {R"({"containerName": "app", "resource": "requests.memory", "divisor": "1G"})", "1"},
      // No limit: the node's allocatable.
      {R"({"containerName": "sidecar", "resource": "limits.cpu", "divisor": "1m"})", "3500"},
      {R"({"containerName": "sidecar", "resource": "limits.memory", "divisor": "1Gi"})", "7"},
      {R"({"containerName": "sidecar", "resource": "limits.ephemeral-storage", "divisor": "1G"})",
       "100"},
      // Requests are not defaulted.
      {R"({"containerName": "sidecar", "resource": "requests.memory"})", "0"},
      {R"({"containerName": "init", "resource": "limits.hugepages-2Mi", "divisor": "1Mi"})", "4"},
  };
  for (const auto& c : cases) {
    auto got = downwardApiResourceValue(kPod, json::parse(c.ref), kAllocatable);
    ASSERT_TRUE(got) << c.ref << ": " << got.error().message();
    EXPECT_EQ(*got, c.want) << c.ref;
  }
  auto noContainer = downwardApiResourceValue(
      kPod, json::parse(R"({"containerName": "nope", "resource": "limits.cpu"})"), kAllocatable);
  ASSERT_FALSE(noContainer);
  EXPECT_EQ(noContainer.error().message(), "container nope not found");
  auto unsupported = downwardApiResourceValue(
      kPod, json::parse(R"({"containerName": "app", "resource": "limits.gpu"})"), kAllocatable);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().message(), "unsupported container resource : limits.gpu");
}

TEST(DownwardApiCollect, ItemsWithModesAndErrorsNamingTheItem) {
  json items = json::parse(R"([
    {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
    {"path": "limits/cpu", "mode": 384,
     "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}
  ])");
  auto got = collectDownwardApi(items, kPod, kAllocatable, 0644);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, (Payload{{"name", {"web", 0644}}, {"limits/cpu", {"500", 0600}}}));

  items[1]["resourceFieldRef"]["containerName"] = "ghost";
  auto bad = collectDownwardApi(items, kPod, kAllocatable, 0644);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "items[1].resourceFieldRef: container ghost not found");
}

}  // namespace
}  // namespace berth::kubelet::volume
