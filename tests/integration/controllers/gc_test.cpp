// The "garbagecollector" controller against berth-server: owners deleted with kubectl
// --cascade=background|foreground|orphan, and what happens to their dependents.
#include <gtest/gtest.h>

#include "tests/integration/controllers/control_plane_fixture.h"

namespace berth::testing {
namespace {

using nlohmann::json;

class GarbageCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveKubectl()) GTEST_SKIP() << "no kubectl on this machine";
    auto cp = ControlPlaneFixture::start();
    ASSERT_TRUE(cp) << cp.error().message();
    cp_ = std::move(*cp);
    auto started = cp_->startControllers({"garbagecollector"});
    ASSERT_TRUE(started) << started.error().message();
  }

  ServerFixture& server() { return cp_->server(); }
  void apply(const json& object) { server().kubectlOk({"apply", "-f", "-"}, object.dump()); }

  json get(const std::string& resource, const std::string& name) {
    auto r = server().kubectl({"get", resource, name, "-o", "json"});
    return r.exitCode == 0 ? json::parse(r.out) : json();
  }
  bool gone(const std::string& resource, const std::string& name) {
    auto r = server().kubectl({"get", resource, name, "-o", "name"});
    return r.exitCode != 0 && r.err.find("NotFound") != std::string::npos;
  }
  std::string uidOf(const std::string& resource, const std::string& name) {
    return get(resource, name)["metadata"]["uid"];
  }

  void configMap(const std::string& name, json owners = json(), json finalizers = json()) {
    json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
    if (!owners.is_null()) cm["metadata"]["ownerReferences"] = owners;
    if (!finalizers.is_null()) cm["metadata"]["finalizers"] = finalizers;
    apply(cm);
  }
  json ownedBy(const std::string& owner, bool block = false) {
    json ref = {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"name", owner},
                {"uid", uidOf("configmap", owner)}};
    if (block) ref["blockOwnerDeletion"] = true;
    return json::array({ref});
  }

  std::unique_ptr<ControlPlaneFixture> cp_;
};

TEST_F(GarbageCollectorTest, BackgroundDeletesDependentsAfterTheOwner) {
  configMap("owner");
  configMap("dep-1", ownedBy("owner"));
  configMap("dep-2", ownedBy("owner", true));
  configMap("bystander");
  server().kubectlOk({"delete", "configmap", "owner", "--cascade=background"});
  EXPECT_TRUE(gone("configmap", "owner"));
  ASSERT_TRUE(
      cp_->eventually([&] { return gone("configmap", "dep-1") && gone("configmap", "dep-2"); }));
  EXPECT_FALSE(get("configmap", "bystander").is_null());
}

TEST_F(GarbageCollectorTest, ForegroundDeletesBlockingDependentsBeforeTheOwner) {
  configMap("owner");
  // dep-held blocks the owner and stays terminating until the test lets it go.
  configMap("dep-held", ownedBy("owner", true), json::array({"example.com/hold"}));
  configMap("dep-free", ownedBy("owner"));
  server().kubectlOk({"delete", "configmap", "owner", "--cascade=foreground", "--wait=false"});
  ASSERT_TRUE(cp_->eventually([&] {
    return gone("configmap", "dep-free") &&
           get("configmap", "dep-held")["metadata"].contains("deletionTimestamp");
  }));
  json owner = get("configmap", "owner");
  ASSERT_FALSE(owner.is_null()) << "the owner went before its blocking dependent";
  EXPECT_TRUE(owner["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(owner["metadata"]["finalizers"], json::array({"foregroundDeletion"}));

  server().kubectlOk({"patch", "configmap", "dep-held", "--type=merge", "-p",
                      R"({"metadata":{"finalizers":null}})"});
  ASSERT_TRUE(cp_->eventually([&] { return gone("configmap", "dep-held"); }));
  ASSERT_TRUE(cp_->eventually([&] { return gone("configmap", "owner"); }))
      << get("configmap", "owner").dump(2);
}

TEST_F(GarbageCollectorTest, ForegroundGoesDownAChainOfOwners) {
  // a owns b owns c; c is held, so a and b must wait for it.
  configMap("a");
  configMap("b", ownedBy("a", true));
  configMap("c", ownedBy("b", true), json::array({"example.com/hold"}));
  server().kubectlOk({"delete", "configmap", "a", "--cascade=foreground", "--wait=false"});
  ASSERT_TRUE(cp_->eventually(
      [&] { return get("configmap", "c")["metadata"].contains("deletionTimestamp"); }));
  // b, having dependents of its own, is deleted in the foreground too.
  json b = get("configmap", "b");
  ASSERT_FALSE(b.is_null());
  EXPECT_EQ(b["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
  EXPECT_FALSE(get("configmap", "a").is_null());
  server().kubectlOk(
      {"patch", "configmap", "c", "--type=merge", "-p", R"({"metadata":{"finalizers":null}})"});
  ASSERT_TRUE(cp_->eventually(
      [&] { return gone("configmap", "c") && gone("configmap", "b") && gone("configmap", "a"); }));
}

TEST_F(GarbageCollectorTest, OrphanRemovesTheOwnerReferenceAndKeepsDependents) {
  configMap("owner");
  configMap("other-owner");
  configMap("dep-1", ownedBy("owner", true));
  json two = ownedBy("owner");
  two.push_back(ownedBy("other-owner")[0]);
  configMap("dep-2", two);
  server().kubectlOk({"delete", "configmap", "owner", "--cascade=orphan"});
  ASSERT_TRUE(cp_->eventually([&] { return gone("configmap", "owner"); }));
  json dep1 = get("configmap", "dep-1");
  ASSERT_FALSE(dep1.is_null());
  EXPECT_FALSE(dep1["metadata"].contains("ownerReferences")) << dep1.dump(2);
  json dep2 = get("configmap", "dep-2");
  ASSERT_FALSE(dep2.is_null());
  ASSERT_EQ(dep2["metadata"]["ownerReferences"].size(), 1u) << dep2.dump(2);
  EXPECT_EQ(dep2["metadata"]["ownerReferences"][0]["name"], "other-owner");
}

TEST_F(GarbageCollectorTest, AnOwnerWithAnotherUidCountsAsGone) {
  configMap("owner");
  json stale = ownedBy("owner");
  stale[0]["uid"] = "00000000-0000-0000-0000-000000000001";
  configMap("dep-stale", stale);
  configMap("dep-live", ownedBy("owner"));
  // With one owner still there, only the reference to the gone one is removed.
  json mixed = ownedBy("owner");
  mixed.push_back(stale[0]);
  configMap("dep-mixed", mixed);
  ASSERT_TRUE(cp_->eventually([&] { return gone("configmap", "dep-stale"); }));
  EXPECT_FALSE(get("configmap", "dep-live").is_null());
  ASSERT_TRUE(cp_->eventually([&] {
    return get("configmap", "dep-mixed")["metadata"]["ownerReferences"].size() == 1;
  })) << get("configmap", "dep-mixed").dump(2);
  EXPECT_EQ(get("configmap", "dep-mixed")["metadata"]["ownerReferences"][0]["uid"],
            uidOf("configmap", "owner"));
}

TEST_F(GarbageCollectorTest, LeaseGoesWithItsNode) {
  ASSERT_TRUE(cp_->createReadyNode("n1"));
  json ref = {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", "n1"}, {"uid", uidOf("node", "n1")}};
  apply({{"apiVersion", "coordination.k8s.io/v1"},
         {"kind", "Lease"},
         {"metadata", {{"name", "n1"}, {"ownerReferences", json::array({ref})}}},
         {"spec", {{"holderIdentity", "n1"}}}});
  server().kubectlOk({"delete", "node", "n1"});
  ASSERT_TRUE(cp_->eventually([&] { return gone("lease", "n1"); }));
}

json podSpec() {
  return {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}};
}

TEST_F(GarbageCollectorTest, ReplicaSetPodsFollowTheirReplicaSet) {
  for (std::string rs : {"bg", "fg"}) {
    json labels = {{"app", rs}};
    json spec = {{"replicas", 2},
                 {"selector", {{"matchLabels", labels}}},
                 {"template", {{"metadata", {{"labels", labels}}}, {"spec", podSpec()}}}};
    apply({{"apiVersion", "apps/v1"},
           {"kind", "ReplicaSet"},
           {"metadata", {{"name", rs}}},
           {"spec", spec}});
    json ref = {
        {"apiVersion", "apps/v1"},        {"kind", "ReplicaSet"}, {"name", rs},
        {"uid", uidOf("replicaset", rs)}, {"controller", true},   {"blockOwnerDeletion", true}};
    // Unscheduled pods (no kubelet here), so their deletion is immediate.
    for (int i = 0; i < 2; ++i) {
      json meta = {{"name", rs + "-" + std::to_string(i)},
                   {"labels", labels},
                   {"ownerReferences", json::array({ref})}};
      apply({{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", meta}, {"spec", podSpec()}});
    }
  }
  server().kubectlOk({"delete", "replicaset", "bg", "--cascade=background"});
  ASSERT_TRUE(cp_->eventually([&] { return gone("pod", "bg-0") && gone("pod", "bg-1"); }));
  server().kubectlOk({"delete", "replicaset", "fg", "--cascade=foreground", "--wait=false"});
  ASSERT_TRUE(cp_->eventually(
      [&] { return gone("pod", "fg-0") && gone("pod", "fg-1") && gone("replicaset", "fg"); }));
}

}  // namespace
}  // namespace berth::testing
