// Static pods on a whole node: manifests dropped into the kubelet's staticPodPath run, show up
// in the API as mirror pods with the file source's annotations, survive the deletion of their
// mirror, are replaced when their file changes and stop when it goes.
#include <signal.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/scope_guard.h"
#include "kubeapi/json_fields.h"
#include "kubelet/cri_client.h"
#include "tests/integration/kubelet/node_fixture.h"

namespace berth::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class StaticPodTest : public NodeTest {
 protected:
  // As a node, so the mirror pods pass NodeRestriction as an upstream kubelet's do.
  static void SetUpTestSuite() { startNode({.staticPods = true, .nodeIdentity = true}); }

  // Writes the manifest as editors and config tools do: a dotfile (ignored) renamed into place.
  void writeManifest(const std::string& file, const std::string& name, const std::string& script,
                     int grace = 30) const {
    Json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}, {"namespace", ns_}}},
        {"spec",
         {{"containers", {container("app", script)}}, {"terminationGracePeriodSeconds", grace}}}};
    const auto dir = node_->manifestDir();
    ASSERT_TRUE(writeFile(dir / ("." + file), pod.dump(2)));
    std::filesystem::rename(dir / ("." + file), dir / file);
  }
  std::string mirrorName(const std::string& name) const { return name + "-" + node_->nodeName(); }
  static std::string annotation(const Json& pod, const std::string& key) {
    return kubeapi::jsonString(kubeapi::jsonField(pod["metadata"], "annotations"), key);
  }
  static std::string containerId(const Json& pod) {
    const Json& statuses =
        kubeapi::jsonArray(kubeapi::jsonField(pod, "status"), "containerStatuses");
    return statuses.empty() ? "" : kubeapi::jsonString(statuses[0], "containerID");
  }
  static bool running(const Json& pod) {
    return pod["status"].value("phase", "") == "Running" && !containerId(pod).empty();
  }
  // The UID of the ready sandbox the runtime holds for namespace/name ("" when none).
  std::string runtimeUid(const std::string& name) const {
    kubelet::CriClient client("unix://" + node_->criSocket().string(), 10s);
    if (auto list = client.listPodSandbox()) {
      for (const auto& s : *list) {
        if (s.metadata().name() == name && s.metadata().namespace_() == ns_ &&
            s.state() == kubelet::cri::SANDBOX_READY) {
          return s.metadata().uid();
        }
      }
    }
    return "";
  }
  // The sandboxes of pod `uid` in the runtime, and their running containers.
  std::pair<int, int> runtimeOf(const std::string& uid) const {
    kubelet::CriClient client("unix://" + node_->criSocket().string(), 10s);
    int sandboxes = 0, containers = 0;
    if (auto list = client.listPodSandbox()) {
      for (const auto& s : *list)
        if (s.metadata().uid() == uid && s.state() == kubelet::cri::SANDBOX_READY) ++sandboxes;
    }
    if (auto list = client.listContainers()) {
      for (const auto& c : *list) {
        auto label = c.labels().find("io.kubernetes.pod.uid");
        if (label != c.labels().end() && label->second == uid &&
            c.state() == kubelet::cri::CONTAINER_RUNNING) {
          ++containers;
        }
      }
    }
    return {sandboxes, containers};
  }
};

TEST_F(StaticPodTest, AManifestRunsAndItsMirrorPodShowsIt) {
  writeManifest("web.yaml", "web", "sleep 3600");
  const std::string name = mirrorName("web");
  ASSERT_TRUE(waitPod(name, running));
  const Json mirror = pod(name);
  const std::string hash = annotation(mirror, "kubernetes.io/config.hash");
  EXPECT_EQ(hash.size(), 32u);
  EXPECT_EQ(annotation(mirror, "kubernetes.io/config.mirror"), hash);
  EXPECT_EQ(annotation(mirror, "kubernetes.io/config.source"), "file");
  EXPECT_FALSE(annotation(mirror, "kubernetes.io/config.seen").empty());
  EXPECT_NE(mirror["metadata"]["uid"], hash);  // the API's own object
  EXPECT_EQ(mirror["spec"]["nodeName"], node_->nodeName());
  ASSERT_EQ(kubeapi::jsonArray(mirror["metadata"], "ownerReferences").size(), 1u);
  const Json& owner = mirror["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Node");
  EXPECT_EQ(owner["name"], node_->nodeName());
  EXPECT_EQ(owner.value("controller", false), true);
  // The runtime runs the static pod (its UID is the hash), and the mirror is not run as a pod.
  EXPECT_EQ(runtimeOf(hash), std::make_pair(1, 1));
  EXPECT_EQ(runtimeOf(mirror["metadata"]["uid"]), std::make_pair(0, 0));
}

TEST_F(StaticPodTest, ADeletedMirrorPodComesBackWhileTheContainerKeepsRunning) {
  writeManifest("keep.yaml", "keep", "sleep 3600");
  const std::string name = mirrorName("keep");
  ASSERT_TRUE(waitPod(name, running));
  const Json before = pod(name);
  const std::string id = containerId(before);
  node_->server().kubectlOk({"delete", "pod", name, "-n", ns_, "--wait=true", "--timeout=60s"});
  ASSERT_TRUE(waitPod(name, [&](const Json& p) {
    return p["metadata"]["uid"] != before["metadata"]["uid"] && running(p);
  }));
  const Json after = pod(name);
  EXPECT_EQ(containerId(after), id);
  EXPECT_EQ(annotation(after, "kubernetes.io/config.mirror"),
            annotation(before, "kubernetes.io/config.mirror"));
  EXPECT_EQ(runtimeOf(annotation(after, "kubernetes.io/config.hash")), std::make_pair(1, 1));
}

TEST_F(StaticPodTest, EditingTheFileReplacesThePod) {
  writeManifest("edit.yaml", "edit", "sleep 3600", 3);
  const std::string name = mirrorName("edit");
  ASSERT_TRUE(waitPod(name, running));
  const Json before = pod(name);
  const std::string oldHash = annotation(before, "kubernetes.io/config.hash");
  writeManifest("edit.yaml", "edit", "echo edited; sleep 3600", 2);
  ASSERT_TRUE(waitPod(name, [&](const Json& p) {
    return annotation(p, "kubernetes.io/config.mirror") != oldHash && running(p);
  }));
  const Json after = pod(name);
  const std::string newHash = annotation(after, "kubernetes.io/config.hash");
  EXPECT_EQ(annotation(after, "kubernetes.io/config.mirror"), newHash);
  EXPECT_NE(containerId(after), containerId(before));
  EXPECT_EQ(runtimeOf(newHash), std::make_pair(1, 1));
  EXPECT_TRUE(eventually([&] { return runtimeOf(oldHash) == std::make_pair(0, 0); }, 60s));
}

TEST_F(StaticPodTest, RemovingTheFileStopsThePodAndDeletesItsMirror) {
  writeManifest("gone.yaml", "gone", "trap 'exit 0' TERM; while true; do sleep 0.2; done");
  const std::string name = mirrorName("gone");
  ASSERT_TRUE(waitPod(name, running));
  const std::string hash = annotation(pod(name), "kubernetes.io/config.hash");
  ASSERT_TRUE(removeAll(node_->manifestDir() / "gone.yaml"));
  EXPECT_TRUE(eventually([&] { return !pod(name).is_object(); }, 60s));
  EXPECT_TRUE(eventually([&] { return runtimeOf(hash) == std::make_pair(0, 0); }, 60s));
  EXPECT_FALSE(std::filesystem::exists(node_->kubeletRoot() / "pods" / hash));
}

TEST_F(StaticPodTest, ARestartedKubeletAdoptsItsStaticPods) {
  writeManifest("steady.yaml", "steady", "sleep 3600");
  const std::string name = mirrorName("steady");
  ASSERT_TRUE(waitPod(name, running));
  const Json before = pod(name);
  ASSERT_TRUE(node_->restartKubelet(true));
  // Same UID from the same file: the container is adopted, not restarted; the mirror stays.
  createPod("after", {{"containers", {container("app", "sleep 3600")}}});
  ASSERT_TRUE(waitPod("after", running));
  const Json after = pod(name);
  EXPECT_EQ(after["metadata"]["uid"], before["metadata"]["uid"]);
  EXPECT_EQ(containerId(after), containerId(before));
  EXPECT_EQ(after["status"]["containerStatuses"][0].value("restartCount", -1), 0);
  EXPECT_EQ(runtimeOf(annotation(after, "kubernetes.io/config.hash")), std::make_pair(1, 1));
}

TEST_F(StaticPodTest, AStaticPodStartsWhileTheApiServerIsUnreachable) {
  // A stopped server: connections open but nothing answers, the worst case for a client.
  const pid_t server = node_->server().pid();
  ASSERT_EQ(::kill(server, SIGSTOP), 0);
  auto resume = defer([&] { ::kill(server, SIGCONT); });  // also when an assertion fails
  writeManifest("alone.yaml", "alone", "sleep 3600");
  const std::string name = mirrorName("alone");
  std::string uid;
  EXPECT_TRUE(eventually(
      [&] {
        uid = runtimeUid(name);
        return !uid.empty() && runtimeOf(uid) == std::make_pair(1, 1);
      },
      60s));
  resume.cancel();
  ASSERT_EQ(::kill(server, SIGCONT), 0);
  // Once the server answers again, the mirror pod shows it.
  ASSERT_TRUE(waitPod(name, running));
  EXPECT_EQ(annotation(pod(name), "kubernetes.io/config.hash"), uid);
}

}  // namespace
}  // namespace berth::testing
