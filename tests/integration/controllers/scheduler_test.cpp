// The scheduler against berth-server, in the test process on its own informer factory: pods are
// created with kubectl, Nodes are written as a kubelet registers them, and what the scheduler
// did is read back (spec.nodeName, the PodScheduled condition, events) with kubectl.
#include "controlplane/scheduler/scheduler.h"

#include <signal.h>

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/spawn.h"
#include "kubeapi/informer_factory.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using controlplane::scheduler::Scheduler;

constexpr const char* kNotReadyTaint =
    R"({"spec":{"taints":[{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"}]}})";

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer(); }
  void startServer(bool inProcess = true) {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto cp = ControlPlaneFixture::start();
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    if (!inProcess) return;
    informers_ = std::make_unique<kubeapi::InformerFactory>(cp_->client());
    scheduler_ = std::make_unique<Scheduler>(*informers_);
    scheduler_->start();
    informers_->start();
  }
  void TearDown() override {
    if (scheduler_) scheduler_->stop();
    if (informers_) informers_->stop();
  }

  // A pod of one busybox container with the given cpu request and extra spec fields.
  void createPod(const std::string& name, const std::string& cpu = "100m",
                 nlohmann::json spec = nlohmann::json::object()) {
    nlohmann::json container = {
        {"name", "app"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", cpu}}}}}};
    if (spec.contains("ports")) container["ports"] = spec["ports"], spec.erase("ports");
    spec["containers"] = {container};
    nlohmann::json pod = {{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", {{"name", name}, {"namespace", "default"}}},
                          {"spec", spec}};
    cp_->server().kubectlOk({"create", "-f", "-"}, pod.dump());
  }

  std::string nodeOf(const std::string& pod) {
    auto got = cp_->client()->resource({"", "v1", "pods"}).inNamespace("default").get(pod);
    if (!got) return "";
    return got->value("/spec/nodeName"_json_pointer, "");
  }

  std::string waitForNode(const std::string& pod) {
    std::string node;
    ControlPlaneFixture::eventually([&] { return !(node = nodeOf(pod)).empty(); });
    return node;
  }

  // The PodScheduled condition's "status reason message", once the scheduler wrote one.
  std::string waitForUnschedulable(const std::string& pod) {
    std::string out;
    ControlPlaneFixture::eventually([&] {
      auto r = cp_->server().kubectl(
          {"get", "pod", pod, "-o",
           R"(jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}|{.status.conditions[?(@.type=="PodScheduled")].reason}|{.status.conditions[?(@.type=="PodScheduled")].message})"});
      out = r.out;
      return r.exitCode == 0 && out.starts_with("False|");
    });
    return out;
  }

  // "type reason source message" of the pod's events with this reason.
  std::string eventFor(const std::string& pod, const std::string& reason) {
    std::string out;
    ControlPlaneFixture::eventually([&] {
      auto r = cp_->server().kubectl(
          {"get", "events", "--field-selector", "involvedObject.name=" + pod + ",reason=" + reason,
           "-o", "jsonpath={.items[0].type}|{.items[0].source.component}|{.items[0].message}"});
      out = r.out;
      return r.exitCode == 0 && !out.empty() && out != "||";
    });
    return out;
  }

  std::unique_ptr<ControlPlaneFixture> cp_;
  std::unique_ptr<kubeapi::InformerFactory> informers_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, SpreadsPodsOverThreeNodes) {
  for (const char* n : {"n1", "n2", "n3"})
    ASSERT_TRUE(cp_->createReadyNode(n)) << n;
  // Created at once: each placement must count before the informer sees it (assume cache).
  for (int i = 0; i < 6; ++i)
    createPod("web-" + std::to_string(i), "1");
  std::map<std::string, int> perNode;
  for (int i = 0; i < 6; ++i)
    ++perNode[waitForNode("web-" + std::to_string(i))];
  EXPECT_EQ(perNode, (std::map<std::string, int>{{"n1", 2}, {"n2", 2}, {"n3", 2}}));
  EXPECT_EQ(eventFor("web-0", "Scheduled"),
            "Normal|default-scheduler|Successfully assigned default/web-0 to " + nodeOf("web-0"));
}

TEST_F(SchedulerTest, InsufficientCpuAndUntoleratedTaintsAreReportedAsUpstreamWritesThem) {
  ASSERT_TRUE(cp_->createReadyNode("n1", "1"));
  for (const char* n : {"n2", "n3"}) {
    ASSERT_TRUE(cp_->createReadyNode(n));
    ASSERT_TRUE(cp_->patchNode(n, nlohmann::json::parse(kNotReadyTaint)));
  }
  createPod("big", "2");
  const std::string message =
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
      "{node.kubernetes.io/not-ready: }. preemption: 0/3 nodes are available: 3 Preemption is "
      "not helpful for scheduling.";
  EXPECT_EQ(waitForUnschedulable("big"), "False|Unschedulable|" + message);
  EXPECT_EQ(eventFor("big", "FailedScheduling"), "Warning|default-scheduler|" + message);
  EXPECT_EQ(nodeOf("big"), "");
  // A toleration makes a tainted node good enough.
  createPod("tolerant", "2",
            {{"tolerations", {{{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}}}});
  std::string node = waitForNode("tolerant");
  EXPECT_TRUE(node == "n2" || node == "n3") << node;
}

TEST_F(SchedulerTest, NodeSelectorAndNodeAffinity) {
  ASSERT_TRUE(cp_->createReadyNode("n1", "4", "8Gi", {{"disk", "ssd"}, {"zone", "a"}}));
  ASSERT_TRUE(cp_->createReadyNode("n2", "4", "8Gi", {{"disk", "hdd"}, {"zone", "b"}}));
  ASSERT_TRUE(cp_->createReadyNode("n3", "4", "8Gi", {{"disk", "hdd"}, {"zone", "c"}}));
  createPod("fast", "100m", {{"nodeSelector", {{"disk", "ssd"}}}});
  createPod("zoned", "100m", nlohmann::json::parse(R"({"affinity":{"nodeAffinity":{
              "requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[
                {"matchExpressions":[{"key":"zone","operator":"In","values":["b"]}]}]}}}})"));
  createPod("nowhere", "100m", {{"nodeSelector", {{"disk", "tape"}}}});
  EXPECT_EQ(waitForNode("fast"), "n1");
  EXPECT_EQ(waitForNode("zoned"), "n2");
  EXPECT_EQ(waitForUnschedulable("nowhere"),
            "False|Unschedulable|0/3 nodes are available: 3 node(s) didn't match Pod's node "
            "affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful "
            "for scheduling.");
}

TEST_F(SchedulerTest, HostPortConflict) {
  ASSERT_TRUE(cp_->createReadyNode("n1"));
  nlohmann::json ports = {{"ports", {{{"containerPort", 80}, {"hostPort", 8080}}}}};
  createPod("first", "100m", ports);
  EXPECT_EQ(waitForNode("first"), "n1");
  createPod("second", "100m", ports);
  EXPECT_EQ(waitForUnschedulable("second"),
            "False|Unschedulable|0/1 nodes are available: 1 node(s) didn't have free ports for "
            "the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption "
            "victims found for incoming pod.");
}

TEST_F(SchedulerTest, PendingPodIsScheduledOnceAFittingNodeAppears) {
  ASSERT_TRUE(cp_->createReadyNode("small", "1"));
  createPod("waiting", "2");
  EXPECT_EQ(waitForUnschedulable("waiting"),
            "False|Unschedulable|0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
            "nodes are available: 1 Preemption is not helpful for scheduling.");
  ASSERT_TRUE(cp_->createReadyNode("large", "4"));
  EXPECT_EQ(waitForNode("waiting"), "large");
  // The binding turns PodScheduled True again, as upstream's binding registry does.
  EXPECT_EQ(cp_->server().kubectlOk({"get", "pod", "waiting", "-o",
                                     "jsonpath={.status.conditions[?(@.type==\"PodScheduled\")]"
                                     ".status}"}),
            "True");
}

TEST_F(SchedulerTest, PendingPodIsScheduledWhenAPodOnTheNodeFinishes) {
  ASSERT_TRUE(cp_->createReadyNode("n1", "1"));
  createPod("job", "800m");
  EXPECT_EQ(waitForNode("job"), "n1");
  createPod("next", "500m");
  EXPECT_EQ(waitForUnschedulable("next"),
            "False|Unschedulable|0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 "
            "nodes are available: 1 No preemption victims found for incoming pod.");
  // The job's kubelet reports it done: its request no longer counts.
  auto pods = cp_->client()->resource({"", "v1", "pods"}).inNamespace("default");
  auto job = pods.get("job");
  ASSERT_TRUE(job) << job.error().message();
  (*job)["status"]["phase"] = "Succeeded";
  auto updated = pods.updateStatus(*job);
  ASSERT_TRUE(updated) << updated.error().message();
  EXPECT_EQ(waitForNode("next"), "n1");
}

TEST_F(SchedulerTest, RequiredAntiAffinityKeepsReplicasApart) {
  for (const char* n : {"n1", "n2", "n3"})
    ASSERT_TRUE(cp_->createReadyNode(n)) << n;
  auto apart = nlohmann::json::parse(R"({"affinity": {"podAntiAffinity": {
    "requiredDuringSchedulingIgnoredDuringExecution": [{
      "labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"}]}}})");
  // Created at once: each placement must count before the informer sees it (assume cache).
  for (int i = 0; i < 4; ++i) {
    std::string name = "db-" + std::to_string(i);
    nlohmann::json pod = {{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", {{"name", name}, {"labels", {{"app", "db"}}}}},
                          {"spec", apart}};
    pod["spec"]["containers"] = {{{"name", "db"}, {"image", "busybox"}}};
    cp_->server().kubectlOk({"create", "-f", "-"}, pod.dump());
  }
  std::set<std::string> nodes;
  std::string unplaced;
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    nodes.clear();
    unplaced.clear();
    for (int i = 0; i < 4; ++i) {
      std::string name = "db-" + std::to_string(i);
      if (std::string node = nodeOf(name); node.empty())
        unplaced = name;
      else
        nodes.insert(node);
    }
    return nodes.size() == 3;
  }));
  ASSERT_FALSE(unplaced.empty());
  EXPECT_EQ(waitForUnschedulable(unplaced),
            "False|Unschedulable|0/3 nodes are available: 3 node(s) didn't match pod "
            "anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims "
            "found for incoming pod.");
}

TEST_F(SchedulerTest, LocalVolumesPinThePodAndDelayedClaimsLearnTheNode) {
  for (const char* n : {"n1", "n2", "n3"})
    ASSERT_TRUE(cp_->createReadyNode(n)) << n;
  // --validate=false: kubectl's client-side check of this List fails against berth-server
  // ("proto: cannot parse invalid wire-format data"), which is not what is tested here.
  cp_->server().kubectlOk({"create", "--validate=false", "-f", "-"},
                          R"({"apiVersion": "v1", "kind": "List", "items": [
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local"},
     "provisioner": "example.com/local", "volumeBindingMode": "WaitForFirstConsumer"},
    {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-n2"},
     "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
              "storageClassName": "local", "local": {"path": "/data"},
              "claimRef": {"namespace": "default", "name": "bound"},
              "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n2"]}]}]}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "bound"},
     "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local", "volumeName": "pv-n2",
              "resources": {"requests": {"storage": "1Gi"}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "later"},
     "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local",
              "resources": {"requests": {"storage": "1Gi"}}}}]})");
  auto claim = [](const char* name) {
    return nlohmann::json{
        {"volumes", {{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", name}}}}}}};
  };
  createPod("pinned", "100m", claim("bound"));
  EXPECT_EQ(waitForNode("pinned"), "n2");
  createPod("delayed", "100m", claim("later"));
  std::string node = waitForNode("delayed");
  ASSERT_FALSE(node.empty());
  EXPECT_EQ(cp_->server().kubectlOk(
                {"get", "pvc", "later", "-o",
                 R"(jsonpath={.metadata.annotations.volume\.kubernetes\.io/selected-node})"}),
            node);
  createPod("orphan", "100m", claim("missing"));
  EXPECT_EQ(waitForUnschedulable("orphan"),
            "False|Unschedulable|0/3 nodes are available: persistentvolumeclaim \"missing\" not "
            "found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for "
            "scheduling.");
}

class StandaloneSchedulerTest : public SchedulerTest {
 protected:
  void SetUp() override { startServer(false); }
};

TEST_F(StandaloneSchedulerTest, BerthSchedulerBindsWithKubeSchedulersFlags) {
  auto scheduler = startProgram(
      {.path = BERTH_SCHEDULER_PATH,
       .args = {"berth-scheduler", "--kubeconfig", cp_->server().adminKubeconfig().string(),
                "--leader-elect=false", "-v=2"}});
  ASSERT_TRUE(scheduler) << scheduler.error().message();
  ASSERT_TRUE(cp_->createReadyNode("n1"));
  createPod("p");
  EXPECT_EQ(waitForNode("p"), "n1");
  ASSERT_EQ(::kill(scheduler->pid(), SIGTERM), 0);
  auto exited = scheduler->waitFor(std::chrono::seconds(20));
  ASSERT_TRUE(exited && *exited) << "berth-scheduler did not exit on SIGTERM";
  EXPECT_TRUE((*exited)->success());
}

}  // namespace
}  // namespace berth::testing
