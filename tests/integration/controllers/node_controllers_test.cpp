// nodeipam, nodelifecycle, taint-eviction-controller, podgc and ttl-after-finished against
// berth-server, with the test playing the kubelets: it renews the Leases of the nodes it keeps
// alive and stops for the one that "dies". Grace periods are seconds; every step waits on the state
// it expects.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "kubeapi/json_fields.h"
#include "kubeapi/meta_time.h"
#include "kubeapi/resource_client.h"
#include "kubeapi/rest_client.h"
#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using kubeapi::jsonArray;
using kubeapi::jsonField;
using kubeapi::jsonString;
using nlohmann::json;

controlplane::controllers::ControllerOptions fastOptions() {
  controlplane::controllers::ControllerOptions o;
  o.clusterCidr = "10.42.0.0/16,fd00:42::/56";
  o.nodeMonitorGracePeriod = std::chrono::seconds(3);
  o.nodeStartupGracePeriod = std::chrono::seconds(3);
  o.nodeMonitorPeriod = std::chrono::seconds(1);
  o.podGcPeriod = std::chrono::seconds(1);
  return o;
}

const std::vector<std::string> kNodeControllers = {"nodeipam", "nodelifecycle",
                                                   "taint-eviction-controller", "podgc"};

// The kubelets' lease renewals, for the nodes in `alive`.
class Heartbeats {
 public:
  explicit Heartbeats(ControlPlaneFixture& cp)
      : cp_(cp), thread_([this](std::stop_token stop) { run(stop); }) {}
  void set(const std::string& node, bool alive) {
    std::lock_guard lock(mu_);
    if (alive)
      alive_.insert(node);
    else
      alive_.erase(node);
  }

 private:
  void run(std::stop_token stop) {
    while (!stop.stop_requested()) {
      std::set<std::string> nodes;
      {
        std::lock_guard lock(mu_);
        nodes = alive_;
      }
      for (const auto& n : nodes)
        (void)cp_.renewNodeLease(n);
      std::this_thread::sleep_for(std::chrono::seconds(1));  // grace is 3 s
    }
  }
  ControlPlaneFixture& cp_;
  std::mutex mu_;
  std::set<std::string> alive_;
  std::jthread thread_;  // last: stopped and joined first
};

class NodeControllersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cp = ControlPlaneFixture::start();
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    heartbeats_ = std::make_unique<Heartbeats>(*cp_);
  }
  void TearDown() override { heartbeats_.reset(); }

  void addNode(const std::string& name) {
    auto created = cp_->createReadyNode(name);
    ASSERT_TRUE(created) << created.error().message();
    heartbeats_->set(name, true);
  }
  json node(const std::string& name) {
    auto n = cp_->client()->resource({"", "v1", "nodes"}, false).get(name);
    return n ? *n : json();
  }
  kubeapi::ApiResult<json> pod(const std::string& name) {
    return cp_->client()->resource({"", "v1", "pods"}).inNamespace("default").get(name);
  }
  json podCidrs(const std::string& name) {
    return jsonArray(jsonField(node(name), "spec"), "podCIDRs");
  }
  std::string condition(const json& obj, const std::string& type) {
    for (const auto& c : jsonArray(jsonField(obj, "status"), "conditions"))
      if (jsonString(c, "type") == type)
        return jsonString(c, "status") + "/" + jsonString(c, "reason");
    return "";
  }
  std::set<std::string> taints(const std::string& name) {
    std::set<std::string> out;
    json n = node(name);  // outlives the loop (a temporary in its range would not)
    for (const auto& t : jsonArray(jsonField(n, "spec"), "taints"))
      out.insert(jsonString(t, "key") + ":" + jsonString(t, "effect"));
    return out;
  }
  void createPodOn(const std::string& name, const std::string& nodeName, json tolerations) {
    json p = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"nodeName", nodeName},
                {"tolerations", std::move(tolerations)},
                {"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}};
    auto created = cp_->client()->resource({"", "v1", "pods"}).inNamespace("default").create(p);
    ASSERT_TRUE(created) << created.error().message();
    ASSERT_TRUE(cp_->markPodReady("default", name));
  }
  bool hasEvent(const std::string& reason, const std::string& object) {
    auto events = cp_->client()->resource({"", "v1", "events"}).inNamespace("default").list();
    if (!events) return false;
    for (const auto& e : jsonArray(*events, "items"))
      if (jsonString(e, "reason") == reason &&
          jsonString(jsonField(e, "involvedObject"), "name") == object)
        return true;
    return false;
  }

  std::unique_ptr<ControlPlaneFixture> cp_;
  std::unique_ptr<Heartbeats> heartbeats_;
};

TEST_F(NodeControllersTest, DualStackPodCidrsAreDistinctAndSurviveARestart) {
  for (const char* n : {"a", "b", "c"})
    addNode(n);
  ASSERT_TRUE(cp_->startControllers(kNodeControllers, fastOptions()));
  std::map<std::string, json> cidrs;
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    for (const char* n : {"a", "b", "c"})
      if ((cidrs[n] = podCidrs(n)).size() != 2) return false;
    return true;
  })) << node("a").dump();
  std::set<std::string> seen;
  for (const auto& [name, pair] : cidrs) {
    EXPECT_EQ(jsonString(node(name)["spec"], "podCIDR"), pair[0]);
    EXPECT_TRUE(pair[0].get<std::string>().starts_with("10.42.")) << pair;
    EXPECT_TRUE(pair[0].get<std::string>().ends_with("/24")) << pair;
    EXPECT_TRUE(pair[1].get<std::string>().starts_with("fd00:42:")) << pair;
    EXPECT_TRUE(pair[1].get<std::string>().ends_with("/64")) << pair;
    seen.insert(pair[0]);
    seen.insert(pair[1]);
  }
  EXPECT_EQ(seen.size(), 6u) << "every podCIDR distinct";

  // A new manager starts its allocator from the bottom again: it must skip what Nodes hold.
  ASSERT_TRUE(cp_->startControllers(kNodeControllers, fastOptions()));
  addNode("d");
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] { return podCidrs("d").size() == 2; }));
  for (const auto& c : podCidrs("d"))
    EXPECT_FALSE(seen.contains(c.get<std::string>())) << c;
  for (const auto& [name, pair] : cidrs)
    EXPECT_EQ(podCidrs(name), pair) << name;
}

TEST_F(NodeControllersTest, ExhaustedClusterCidrIsReportedCidrNotAvailable) {
  for (const char* n : {"a", "b", "c"})
    addNode(n);
  auto options = fastOptions();
  options.clusterCidr = "10.43.0.0/24";
  options.nodeCidrMaskSizeIpv4 = 25;
  ASSERT_TRUE(cp_->startControllers({"nodeipam"}, options));
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    int withCidr = 0;
    std::string without;
    for (const char* n : {"a", "b", "c"})
      if (podCidrs(n).empty())
        without = n;
      else
        ++withCidr;
    return withCidr == 2 && hasEvent("CIDRNotAvailable", without);
  }));
}

TEST_F(NodeControllersTest, UnreachableNodeIsTaintedItsPodsEvictedAndCollectedWhenDeleted) {
  for (const char* n : {"a", "b"})
    addNode(n);
  ASSERT_TRUE(cp_->startControllers(kNodeControllers, fastOptions()));
  json unreachable = {
      {"key", "node.kubernetes.io/unreachable"}, {"operator", "Exists"}, {"effect", "NoExecute"}};
  json brief = unreachable;
  brief["tolerationSeconds"] = 1;
  createPodOn("brief", "b", json::array({brief}));
  createPodOn("forever", "b", json::array({unreachable}));
  createPodOn("elsewhere", "a", json::array());

  heartbeats_->set("b", false);
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    return condition(node("b"), "Ready") == "Unknown/NodeStatusUnknown" &&
           taints("b") == std::set<std::string>{"node.kubernetes.io/unreachable:NoExecute",
                                                "node.kubernetes.io/unreachable:NoSchedule"};
  })) << node("b").dump();
  EXPECT_EQ(condition(node("b"), "MemoryPressure"), "Unknown/NodeStatusNeverUpdated");
  EXPECT_EQ(condition(node("a"), "Ready"), "True/KubeletReady") << "a kept its heartbeat";
  EXPECT_TRUE(taints("a").empty());

  // tolerationSeconds=1: deleted (graceful: no kubelet finishes it, so it stays terminating).
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    auto p = pod("brief");
    return !p || jsonField((*p)["metadata"], "deletionTimestamp").is_string();
  }));
  if (auto brief = pod("brief")) {
    EXPECT_EQ(condition(*brief, "DisruptionTarget"), "True/DeletionByTaintManager");
  }
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    return condition(*pod("forever"), "Ready").starts_with("False");
  })) << "MarkPodsNotReady";
  auto forever = pod("forever");
  ASSERT_TRUE(forever);
  EXPECT_FALSE(jsonField((*forever)["metadata"], "deletionTimestamp").is_string())
      << "tolerates unreachable for good";
  EXPECT_TRUE(condition(*pod("elsewhere"), "Ready").starts_with("True"));
  EXPECT_TRUE(ControlPlaneFixture::eventually([&] { return hasEvent("NodeNotReady", "b"); }));

  // The kubelet is back: Ready True again, the taints go.
  ASSERT_TRUE(cp_->postNodeReady("b"));
  heartbeats_->set("b", true);
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] { return taints("b").empty(); }))
      << node("b").dump();
  EXPECT_EQ(condition(node("b"), "Ready"), "True/KubeletReady");

  // The node is deleted: podgc force-deletes what was bound to it, terminating or not.
  heartbeats_->set("b", false);
  ASSERT_TRUE(cp_->client()->resource({"", "v1", "nodes"}, false).remove("b"));
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    auto f = pod("forever");
    auto b = pod("brief");
    return !f && f.error().isNotFound() && !b && b.error().isNotFound();
  }));
  EXPECT_TRUE(pod("elsewhere")) << "its node still exists";
}

TEST_F(NodeControllersTest, FinishedJobIsDeletedAfterItsTtl) {
  ASSERT_TRUE(cp_->startControllers({"ttl-after-finished"}, fastOptions()));
  auto jobs = cp_->client()->resource({"batch", "v1", "jobs"}).inNamespace("default");
  auto makeJob = [&](const std::string& name, std::optional<int> ttl) -> json {
    json j = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec",
               {{"template",
                 {{"spec",
                   {{"restartPolicy", "Never"},
                    {"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}}}}};
    if (ttl) j["spec"]["ttlSecondsAfterFinished"] = *ttl;
    auto created = jobs.create(j);
    EXPECT_TRUE(created) << created.error().message();
    return created ? *created : json();
  };
  // As the job controller would finish them.
  auto complete = [&](json job) {
    std::string now = kubeapi::formatTime(kubeapi::now());
    job["status"] = {
        {"startTime", now},
        {"completionTime", now},
        {"succeeded", 1},
        {"conditions",
         json::array({{{"type", "Complete"}, {"status", "True"}, {"lastTransitionTime", now}}})}};
    auto updated = jobs.updateStatus(job);
    ASSERT_TRUE(updated) << updated.error().message();
  };
  json expiring = makeJob("expiring", 1);
  json kept = makeJob("kept", {});
  complete(kept);
  complete(expiring);
  ASSERT_TRUE(ControlPlaneFixture::eventually([&] {
    auto j = jobs.get("expiring");
    return !j || jsonField((*j)["metadata"], "deletionTimestamp").is_string();
  }));
  auto still = jobs.get("kept");
  ASSERT_TRUE(still);
  EXPECT_FALSE(jsonField((*still)["metadata"], "deletionTimestamp").is_string()) << "no TTL";
}

}  // namespace
}  // namespace berth::testing
