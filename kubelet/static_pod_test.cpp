#include "kubelet/static_pod.h"

#include <gtest/gtest.h>

#include "kubeapi/object_meta.h"

namespace berth::kubelet {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kManifest = R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
)";

Json decode(std::string_view data, const std::string& path = "/etc/manifests/web.yaml",
            const std::string& node = "Node-1") {
  auto pod = decodeStaticPod(data, path, node, "2026-01-02T03:04:05.5Z");
  EXPECT_TRUE(pod) << pod.error().message();
  return pod ? *pod : Json();
}

TEST(StaticPod, DecodesAsTheFileSourceDoes) {
  const Json pod = decode(kManifest);
  EXPECT_EQ(kubeapi::nameOf(pod), "web-node-1");  // lower-cased node name appended
  EXPECT_EQ(kubeapi::namespaceOf(pod), "default");
  EXPECT_EQ(pod["spec"]["nodeName"], "Node-1");
  const std::string uid(kubeapi::uidOf(pod));
  EXPECT_EQ(uid.size(), 32u);  // md5, hex
  const Json& annotations = pod["metadata"]["annotations"];
  EXPECT_EQ(annotations["kubernetes.io/config.hash"], uid);
  EXPECT_EQ(annotations["kubernetes.io/config.source"], "file");
  EXPECT_EQ(annotations["kubernetes.io/config.seen"], "2026-01-02T03:04:05.5Z");
  EXPECT_EQ(pod["spec"]["tolerations"],
            Json::parse(R"([{"operator":"Exists","effect":"NoExecute"}])"));
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  // The API server's defaults.
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(pod["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_TRUE(isStaticPod(pod));
  EXPECT_FALSE(isMirrorPod(pod));
}

TEST(StaticPod, TheUidFollowsContentNodeAndPathButNotTheSeenTime) {
  const std::string uid(kubeapi::uidOf(decode(kManifest)));
  auto again = decodeStaticPod(kManifest, "/etc/manifests/web.yaml", "Node-1", "later");
  ASSERT_TRUE(again);
  EXPECT_EQ(kubeapi::uidOf(*again), uid);
  std::string edited(kManifest);
  edited.replace(edited.find("3600"), 4, "3601");
  EXPECT_NE(kubeapi::uidOf(decode(edited)), uid);
  EXPECT_NE(kubeapi::uidOf(decode(kManifest, "/etc/manifests/web.yaml", "node-2")), uid);
  EXPECT_NE(kubeapi::uidOf(decode(kManifest, "/etc/manifests/other.yaml")), uid);
}

TEST(StaticPod, KeepsWhatTheFileSets) {
  const Json pod = decode(R"({"apiVersion":"v1","kind":"Pod",
    "metadata":{"name":"p","namespace":"kube-system","uid":"fixed",
                "annotations":{"a":"b"}},
    "spec":{"containers":[{"name":"c","image":"i"}],
            "tolerations":[{"operator":"Exists","effect":"NoExecute"}]}})");
  EXPECT_EQ(kubeapi::namespaceOf(pod), "kube-system");
  EXPECT_EQ(kubeapi::uidOf(pod), "fixed");
  EXPECT_EQ(pod["metadata"]["annotations"]["a"], "b");
  EXPECT_EQ(pod["metadata"]["annotations"]["kubernetes.io/config.hash"], "fixed");
  EXPECT_EQ(pod["spec"]["tolerations"].size(), 1u);  // not added twice
}

TEST(StaticPod, RejectsWhatIsNotOnePod) {
  struct Case {
    std::string_view data;
    std::string_view message;
  };
  const Case cases[] = {
      {"a: [", "invalid YAML"},
      {"- 1\n- 2\n", "a mapping is expected"},
      {"apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n", "kind \"Service\""},
      {"apiVersion: v1\nkind: Pod\nmetadata: {}\nspec: {containers: [{name: c}]}\n",
       "metadata.name"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: c}]}\n",
       "metadata.name: Invalid value"},
      {"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n", "spec.containers"},
  };
  for (const auto& c : cases) {
    auto pod = decodeStaticPod(c.data, "/m/p.yaml", "n", "t");
    ASSERT_FALSE(pod) << c.data;
    EXPECT_NE(pod.error().message().find(c.message), std::string::npos) << pod.error().message();
  }
}

TEST(StaticPod, MirrorPodIsOwnedByTheNodeAndCarriesTheHash) {
  const Json pod = decode(kManifest);
  const Json mirror = mirrorPodFor(pod, "Node-1", "node-uid");
  EXPECT_FALSE(mirror["metadata"].contains("uid"));
  EXPECT_FALSE(mirror.contains("status"));
  EXPECT_EQ(kubeapi::nameOf(mirror), "web-node-1");
  EXPECT_EQ(mirror["metadata"]["annotations"]["kubernetes.io/config.mirror"],
            std::string(kubeapi::uidOf(pod)));
  EXPECT_EQ(mirror["metadata"]["annotations"]["kubernetes.io/config.source"], "file");
  EXPECT_EQ(mirror["metadata"]["ownerReferences"],
            Json::parse(R"([{"apiVersion":"v1","kind":"Node","name":"Node-1","uid":"node-uid",
                             "controller":true}])"));
  EXPECT_TRUE(isMirrorPod(mirror));
}

TEST(StaticPod, PlansTheMirror) {
  const Json pod = decode(kManifest);
  Json mirror = mirrorPodFor(pod, "Node-1", "u");
  mirror["metadata"]["uid"] = "mirror-uid";
  EXPECT_EQ(planMirrorPod(pod, nullptr), MirrorAction::kCreate);
  EXPECT_EQ(planMirrorPod(pod, &mirror), MirrorAction::kNone);
  Json stale = mirror;
  stale["metadata"]["annotations"]["kubernetes.io/config.mirror"] = "older";
  EXPECT_EQ(planMirrorPod(pod, &stale), MirrorAction::kRecreate);
  Json deleting = mirror;
  deleting["metadata"]["deletionTimestamp"] = "2026-01-02T03:04:05Z";
  EXPECT_EQ(planMirrorPod(pod, &deleting), MirrorAction::kRecreate);
}

TEST(StaticPod, SeenTimeIsRfc3339Nano) {
  using namespace std::chrono;
  const system_clock::time_point t = sys_days{2026y / 1 / 2} + 3h + 4min + 5s;
  EXPECT_EQ(rfc3339Nano(t), "2026-01-02T03:04:05Z");
  EXPECT_EQ(rfc3339Nano(t + 120ms), "2026-01-02T03:04:05.12Z");
}

}  // namespace
}  // namespace berth::kubelet
