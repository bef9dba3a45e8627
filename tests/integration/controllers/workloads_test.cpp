// The ReplicaSet and Deployment controllers against berth-server, driven by kubectl as a user
// would: replicas kept, rollouts within maxSurge/maxUnavailable, `kubectl rollout
// status|history|undo|pause|resume|restart`, Recreate and revisionHistoryLimit. No kubelet: a
// thread of the test marks pods Ready as they appear, as a kubelet would through pods/status.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "controlplane/controllers/active_pods.h"
#include "kubeapi/kubeconfig.h"
#include "kubeapi/object_meta.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using controlplane::controllers::isPodActive;
using controlplane::controllers::isPodReady;
using nlohmann::json;

json containers(const std::string& image) {
  return {{{"name", "app"}, {"image", image}}};
}

json replicaSet(const std::string& name, int replicas) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "ReplicaSet"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", {{"app", name}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", name}}}}},
              {"spec", {{"containers", containers("busybox:1")}}}}}}}};
}

json deployment(const std::string& name, int replicas, json strategy, json extraSpec = {}) {
  json d = {{"apiVersion", "apps/v1"},
            {"kind", "Deployment"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"replicas", replicas},
              {"strategy", strategy},
              {"selector", {{"matchLabels", {{"app", name}}}}},
              {"template",
               {{"metadata", {{"labels", {{"app", name}}}}},
                {"spec", {{"containers", containers("busybox:1")}}}}}}}};
  if (extraSpec.is_object()) d["spec"].update(extraSpec);
  return d;
}

json rollingUpdate(json maxSurge, json maxUnavailable) {
  return {{"type", "RollingUpdate"},
          {"rollingUpdate", {{"maxSurge", maxSurge}, {"maxUnavailable", maxUnavailable}}}};
}

class WorkloadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto cp = ControlPlaneFixture::start();
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    ASSERT_TRUE(cp_->startControllers({"replicaset", "deployment"}));
    // The test watches through a client of its own, unthrottled, so its polling never takes
    // the controllers' share of the fixture client's 5 requests/s.
    auto kubeconfig = kubeapi::Kubeconfig::load(cp_->server().adminKubeconfig());
    ASSERT_TRUE(kubeconfig) << kubeconfig.error().message();
    auto config = kubeconfig->restConfig();
    ASSERT_TRUE(config) << config.error().message();
    config->qps = 0;
    auto client = kubeapi::RestClient::create(std::move(*config));
    ASSERT_TRUE(client) << client.error().message();
    pods_ = std::make_unique<kubeapi::ResourceClient>(
        (*client)->resource({"", "v1", "pods"}).inNamespace("default"));
    rss_ = std::make_unique<kubeapi::ResourceClient>(
        (*client)->resource({"apps", "v1", "replicasets"}).inNamespace("default"));
  }
  void TearDown() override {
    stopKubelet();
    cp_.reset();
  }

  std::string kubectl(std::vector<std::string> args, const std::string& in = {}) {
    return cp_->server().kubectlOk(args, in);
  }

  // The active pods whose labels include app=<app>.
  std::vector<json> activePods(const std::string& app) {
    auto list = pods_->list({.labelSelector = "app=" + app});
    std::vector<json> out;
    if (!list) return out;
    for (const json& p : (*list)["items"])
      if (isPodActive(p)) out.push_back(p);
    return out;
  }
  std::vector<json> replicaSets(const std::string& app) {
    auto list = rss_->list({.labelSelector = "app=" + app});
    return list ? (*list)["items"].get<std::vector<json>>() : std::vector<json>{};
  }
  bool waitForPods(const std::string& app, size_t n) {
    return ControlPlaneFixture::eventually([&] { return activePods(app).size() == n; });
  }

  // Plays the kubelet: every pod that appears is marked Running and Ready.
  void startKubelet() {
    kubeletStop_ = false;
    kubelet_ = std::thread([this] {
      while (!kubeletStop_) {
        auto list = pods_->list();
        if (list)
          for (const json& p : (*list)["items"])
            if (isPodActive(p) && !isPodReady(p))
              (void)cp_->markPodReady("default", std::string(kubeapi::nameOf(p)));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  void stopKubelet() {
    kubeletStop_ = true;
    if (kubelet_.joinable()) kubelet_.join();
  }

  std::unique_ptr<ControlPlaneFixture> cp_;
  std::unique_ptr<kubeapi::ResourceClient> pods_;
  std::unique_ptr<kubeapi::ResourceClient> rss_;
  std::atomic<bool> kubeletStop_{false};
  std::thread kubelet_;
};

TEST_F(WorkloadsTest, ReplicaSetKeepsItsReplicasAdoptsAndReleases) {
  // An orphan that matches is adopted, so only two pods are made.
  json orphan = {{"apiVersion", "v1"},
                 {"kind", "Pod"},
                 {"metadata", {{"name", "orphan"}, {"labels", {{"app", "rs"}}}}},
                 {"spec", {{"containers", containers("busybox:1")}}}};
  kubectl({"create", "-f", "-"}, orphan.dump());
  kubectl({"create", "-f", "-"}, replicaSet("rs", 3).dump());
  ASSERT_TRUE(waitForPods("rs", 3));
  auto rs = rss_->get("rs");
  ASSERT_TRUE(rs);
  for (const json& p : activePods("rs")) {
    auto ref = kubeapi::controllerOf(p);
    ASSERT_TRUE(ref) << kubeapi::nameOf(p);
    EXPECT_EQ(ref->uid, kubeapi::uidOf(*rs));
    EXPECT_EQ(ref->blockOwnerDeletion, std::optional<bool>(true));
    if (kubeapi::nameOf(p) != "orphan") {
      EXPECT_TRUE(kubeapi::nameOf(p).starts_with("rs-")) << kubeapi::nameOf(p);
    }
  }
  std::string events = kubectl({"get", "events", "--field-selector", "involvedObject.name=rs", "-o",
                                "jsonpath={.items[*].message}"});
  EXPECT_NE(events.find("Created pod: rs-"), std::string::npos) << events;

  // Status through the status subresource, readiness as the kubelet reports it.
  startKubelet();
  EXPECT_TRUE(ControlPlaneFixture::eventually([&] {
    return kubectl({"get", "rs", "rs", "-o",
                    "jsonpath={.status.replicas}/{.status.fullyLabeledReplicas}/"
                    "{.status.readyReplicas}/{.status.availableReplicas}/"
                    "{.status.observedGeneration}"}) == "3/3/3/3/1";
  }));

  // A deleted pod is replaced.
  kubectl({"delete", "pod", "orphan"});
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    auto pods = activePods("rs");
    return pods.size() == 3 &&
           std::ranges::none_of(pods, [](const json& p) { return kubeapi::nameOf(p) == "orphan"; });
  }));

  // A pod relabelled out of the selector is released (and replaced).
  std::string relabelled(kubeapi::nameOf(activePods("rs")[0]));
  kubectl({"label", "pod", relabelled, "app=other", "--overwrite"});
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    auto pod = pods_->get(relabelled);
    return pod && !kubeapi::controllerOf(*pod) && activePods("rs").size() == 3;
  }));

  // Scaling down deletes, and says so.
  kubectl({"scale", "rs", "rs", "--replicas=1"});
  ASSERT_TRUE(waitForPods("rs", 1));
  EXPECT_TRUE(ControlPlaneFixture::eventually([&] {
    return kubectl({"get", "events", "--field-selector", "reason=SuccessfulDelete", "-o",
                    "jsonpath={.items[*].message}"})
               .find("Deleted pod: rs-") != std::string::npos;
  }));
}

// Samples the rollout: the most replicas the sets ask for in all, and the fewest Ready pods.
struct RolloutBounds {
  std::atomic<int> maxSpec{0};
  std::atomic<int> minReady{1000};
};

TEST_F(WorkloadsTest, RollingUpdateStaysWithinSurgeAndUnavailabilityAndRollsBack) {
  startKubelet();
  kubectl({"create", "-f", "-"}, deployment("web", 4, rollingUpdate(1, 1)).dump());
  kubectl({"rollout", "status", "deployment/web", "--timeout=60s"});
  auto sets = replicaSets("web");
  ASSERT_EQ(sets.size(), 1u);
  std::string firstRS(kubeapi::nameOf(sets[0]));
  std::string hash(*kubeapi::labelOf(sets[0], "pod-template-hash"));
  EXPECT_EQ(firstRS, "web-" + hash);
  EXPECT_EQ(kubeapi::annotationOf(sets[0], "deployment.kubernetes.io/revision"), "1");
  EXPECT_EQ(kubeapi::annotationOf(sets[0], "deployment.kubernetes.io/desired-replicas"), "4");
  EXPECT_EQ(kubeapi::annotationOf(sets[0], "deployment.kubernetes.io/max-replicas"), "5");
  EXPECT_EQ(kubectl({"get", "deploy", "web", "-o",
                     "jsonpath={.status.conditions[?(@.type==\"Progressing\")].reason}"}),
            "NewReplicaSetAvailable");

  RolloutBounds bounds;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      int spec = 0;
      for (const json& rs : replicaSets("web"))
        spec += rs["spec"].value("replicas", 0);
      int ready = 0;
      for (const json& p : activePods("web"))
        ready += isPodReady(p) ? 1 : 0;
      bounds.maxSpec = std::max(bounds.maxSpec.load(), spec);
      bounds.minReady = std::min(bounds.minReady.load(), ready);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  kubectl({"set", "image", "deployment/web", "app=busybox:2"});
  kubectl({"rollout", "status", "deployment/web", "--timeout=60s"});
  done = true;
  sampler.join();
  EXPECT_LE(bounds.maxSpec, 5);   // replicas + maxSurge
  EXPECT_GE(bounds.minReady, 3);  // replicas - maxUnavailable
  sets = replicaSets("web");
  ASSERT_EQ(sets.size(), 2u);
  std::string secondRS(kubeapi::nameOf(sets[0]) == firstRS ? kubeapi::nameOf(sets[1])
                                                           : kubeapi::nameOf(sets[0]));
  std::string status = kubectl({"get", "deploy", "web", "-o",
                                "jsonpath={.status.replicas}/{.status.updatedReplicas}/"
                                "{.status.readyReplicas}/{.status.availableReplicas}"});
  EXPECT_EQ(status, "4/4/4/4");
  std::string events = kubectl({"get", "events", "--field-selector", "reason=ScalingReplicaSet",
                                "-o", "jsonpath={.items[*].message}"});
  EXPECT_NE(events.find("Scaled up replica set " + firstRS + " from 0 to 4"), std::string::npos)
      << events;
  EXPECT_NE(events.find("Scaled down replica set " + firstRS), std::string::npos) << events;
  // The surge: the new set starts with one pod while the old one still has all four.
  EXPECT_NE(events.find("Scaled up replica set " + secondRS + " from 0 to 1"), std::string::npos)
      << events;

  std::string history = kubectl({"rollout", "history", "deployment/web"});
  EXPECT_NE(history.find("1 "), std::string::npos) << history;
  EXPECT_NE(history.find("2 "), std::string::npos) << history;

  kubectl({"rollout", "undo", "deployment/web"});
  kubectl({"rollout", "status", "deployment/web", "--timeout=60s"});
  EXPECT_EQ(
      kubectl({"get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}),
      "busybox:1");
  // The first set is the new one again, at revision 3, remembering it was 1.
  auto first = rss_->get(firstRS);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["spec"]["replicas"], 4);
  EXPECT_EQ(kubeapi::annotationOf(*first, "deployment.kubernetes.io/revision"), "3");
  EXPECT_EQ(kubeapi::annotationOf(*first, "deployment.kubernetes.io/revision-history"), "1");
  EXPECT_EQ(replicaSets("web").size(), 2u);
  for (const json& p : activePods("web"))
    EXPECT_EQ(kubeapi::labelOf(p, "pod-template-hash"), hash);
}

TEST_F(WorkloadsTest, PauseResumeRestartAndScale) {
  startKubelet();
  kubectl({"create", "-f", "-"}, deployment("app", 2, rollingUpdate("25%", "25%")).dump());
  kubectl({"rollout", "status", "deployment/app", "--timeout=60s"});

  kubectl({"rollout", "pause", "deployment/app"});
  kubectl({"set", "image", "deployment/app", "app=busybox:2"});
  // Once the controller has seen the change, a paused Deployment has no new set.
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    return kubectl({"get", "deploy", "app", "-o",
                    "jsonpath={.metadata.generation}/{.status.observedGeneration}/"
                    "{.status.conditions[?(@.type==\"Progressing\")].reason}"}) ==
           "3/3/DeploymentPaused";
  }));
  EXPECT_EQ(replicaSets("app").size(), 1u);
  // Scaling still works while paused.
  kubectl({"scale", "deployment/app", "--replicas=3"});
  ASSERT_TRUE(waitForPods("app", 3));
  EXPECT_EQ(replicaSets("app").size(), 1u);

  kubectl({"rollout", "resume", "deployment/app"});
  kubectl({"rollout", "status", "deployment/app", "--timeout=60s"});
  EXPECT_EQ(replicaSets("app").size(), 2u);

  kubectl({"rollout", "restart", "deployment/app"});
  kubectl({"rollout", "status", "deployment/app", "--timeout=60s"});
  auto sets = replicaSets("app");
  ASSERT_EQ(sets.size(), 3u);
  int withPods = 0;
  for (const json& rs : sets)
    if (rs["spec"].value("replicas", 0) > 0) {
      ++withPods;
      EXPECT_TRUE(rs["spec"]["template"]["metadata"]["annotations"].contains(
          "kubectl.kubernetes.io/restartedAt"));
      EXPECT_EQ(rs["spec"]["replicas"], 3);
    }
  EXPECT_EQ(withPods, 1);

  // Proportional scaling while two sets have pods: a rollout stalled by unready pods.
  stopKubelet();
  kubectl({"set", "image", "deployment/app", "app=busybox:3"});
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    int active = 0;
    for (const json& rs : replicaSets("app"))
      active += rs["spec"].value("replicas", 0) > 0 ? 1 : 0;
    return active == 2;
  }));
  kubectl({"scale", "deployment/app", "--replicas=6"});
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    int total = 0, active = 0;
    for (const json& rs : replicaSets("app")) {
      int r = rs["spec"].value("replicas", 0);
      total += r;
      active += r > 0 ? 1 : 0;
      if (r > 0 && kubeapi::annotationOf(rs, "deployment.kubernetes.io/desired-replicas") != "6")
        return false;
    }
    return active == 2 && total == 6 + 2;  // replicas + 25% surge, spread over both
  }));
}

TEST_F(WorkloadsTest, RecreateRemovesOldPodsBeforeCreatingNew) {
  startKubelet();
  kubectl({"create", "-f", "-"}, deployment("batch", 3, {{"type", "Recreate"}}).dump());
  kubectl({"rollout", "status", "deployment/batch", "--timeout=60s"});
  std::string oldHash(*kubeapi::labelOf(replicaSets("batch")[0], "pod-template-hash"));

  std::atomic<bool> done{false}, mixed{false};
  std::thread sampler([&] {
    while (!done) {
      std::set<std::string> hashes;
      auto list = pods_->list({.labelSelector = "app=batch"});
      if (list)
        for (const json& p : (*list)["items"])
          hashes.insert(std::string(kubeapi::labelOf(p, "pod-template-hash").value_or("")));
      if (hashes.size() > 1) mixed = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  kubectl({"set", "image", "deployment/batch", "app=busybox:2"});
  kubectl({"rollout", "status", "deployment/batch", "--timeout=60s"});
  done = true;
  sampler.join();
  EXPECT_FALSE(mixed) << "old and new pods existed at once";
  auto pods = activePods("batch");
  ASSERT_EQ(pods.size(), 3u);
  for (const json& p : pods)
    EXPECT_NE(kubeapi::labelOf(p, "pod-template-hash"), oldHash);
}

TEST_F(WorkloadsTest, RevisionHistoryLimitDeletesTheOldestSets) {
  startKubelet();
  kubectl({"create", "-f", "-"},
          deployment("hist", 1, rollingUpdate(1, 0), {{"revisionHistoryLimit", 1}}).dump());
  kubectl({"rollout", "status", "deployment/hist", "--timeout=60s"});
  for (const char* image : {"busybox:2", "busybox:3", "busybox:4"}) {
    kubectl({"set", "image", "deployment/hist", std::string("app=") + image});
    kubectl({"rollout", "status", "deployment/hist", "--timeout=60s"});
  }
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] { return replicaSets("hist").size() == 2; }));
  std::set<std::string> revisions;
  for (const json& rs : replicaSets("hist"))
    revisions.insert(
        std::string(kubeapi::annotationOf(rs, "deployment.kubernetes.io/revision").value_or("")));
  EXPECT_EQ(revisions, (std::set<std::string>{"3", "4"}));
  std::string history = kubectl({"rollout", "history", "deployment/hist"});
  EXPECT_EQ(history.find("\n1 "), std::string::npos) << history;
}

TEST_F(WorkloadsTest, StalledRolloutExceedsItsProgressDeadline) {
  // No kubelet: the pods never get Ready.
  kubectl({"create", "-f", "-"},
          deployment("stuck", 2, rollingUpdate(1, 0), {{"progressDeadlineSeconds", 2}}).dump());
  auto result = cp_->server().kubectl({"rollout", "status", "deployment/stuck", "--timeout=60s"});
  EXPECT_NE(result.exitCode, 0);
  EXPECT_NE(result.err.find("exceeded its progress deadline"), std::string::npos) << result.err;
  std::string cond = kubectl({"get", "deploy", "stuck", "-o",
                              "jsonpath={.status.conditions[?(@.type==\"Progressing\")].status}/"
                              "{.status.conditions[?(@.type==\"Progressing\")].reason}/"
                              "{.status.conditions[?(@.type==\"Available\")].status}"});
  EXPECT_EQ(cond, "False/ProgressDeadlineExceeded/False");
}

TEST_F(WorkloadsTest, ReplicaSetCountsPodsAvailableAfterMinReadySeconds) {
  json rs = replicaSet("slow", 2);
  rs["spec"]["minReadySeconds"] = 2;
  kubectl({"create", "-f", "-"}, rs.dump());
  ASSERT_TRUE(waitForPods("slow", 2));
  startKubelet();
  // Ready at once, available only after minReadySeconds: the controller looks again then.
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    return kubectl({"get", "rs", "slow", "-o",
                    "jsonpath={.status.readyReplicas}/{.status.availableReplicas}"}) == "2/2";
  }));
}

}  // namespace
}  // namespace berth::testing
