#include "controlplane/auth/node_authorizer.h"

#include <gtest/gtest.h>

#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

UserInfo node(std::string name) {
  return UserInfo{"system:node:" + name, "", {"system:nodes", "system:authenticated"}, {}};
}

using testing::ask;

class NodeAuthorizerTest : public ::testing::Test {
 protected:
  NodeAuthorizerTest() : lookup_(std::make_shared<testing::MemoryObjectLookup>()), node_(lookup_) {
    lookup_->put("", "pods", nlohmann::json::parse(R"({
        "metadata": {"namespace": "default", "name": "web", "uid": "web-uid"},
        "spec": {"nodeName": "n1", "serviceAccountName": "web-sa",
                 "imagePullSecrets": [{"name": "pull"}],
                 "containers": [{"name": "c", "env": [
                     {"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
                     {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}}],
                   "envFrom": [{"configMapRef": {"name": "from-cm"}}]}],
                 "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "init-secret"}}]}],
                 "volumes": [{"name": "v1", "secret": {"secretName": "vol-secret"}},
                             {"name": "v2", "configMap": {"name": "vol-cm"}},
                             {"name": "v3", "projected": {"sources": [
                                 {"secret": {"name": "proj-secret"}},
                                 {"configMap": {"name": "proj-cm"}},
                                 {"serviceAccountToken": {"path": "token"}}]}},
                             {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                             {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}}]}})"));
    lookup_->put("", "pods", nlohmann::json::parse(R"({
        "metadata": {"namespace": "default", "name": "other", "uid": "other-uid"},
        "spec": {"nodeName": "n2", "serviceAccountName": "other-sa",
                 "volumes": [{"name": "v", "secret": {"secretName": "other-secret"}}]}})"));
    lookup_->put("", "persistentvolumes", nlohmann::json::parse(R"({
        "metadata": {"name": "pv-data"},
        "spec": {"claimRef": {"namespace": "default", "name": "data"},
                 "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi-secret"}}}})"));
    lookup_->put("", "persistentvolumes", nlohmann::json::parse(R"({
        "metadata": {"name": "pv-other"},
        "spec": {"claimRef": {"namespace": "default", "name": "elsewhere"}}})"));
    lookup_->put("storage.k8s.io", "volumeattachments", nlohmann::json::parse(R"({
        "metadata": {"name": "va-1"}, "spec": {"nodeName": "n1"}})"));
  }

  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  NodeAuthorizer node_;
};

TEST_F(NodeAuthorizerTest, ANodeReadsWhatItsPodsReference) {
  struct Case {
    Attributes request;
    Decision decision;
    std::string reason;
  };
  const std::string none = "no relationship found between node 'n1' and this object";
  auto podList = [](std::string selector) {
    Attributes a = ask(node("n1"), "list", "pods", "", "");
    a.fieldSelector = std::move(selector);
    return a;
  };
  const std::vector<Case> cases = {
      {ask(node("n1"), "get", "pods", "default", "web"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "pods", "default", "other"), Decision::kNoOpinion, none},
      {podList("spec.nodeName=n1"), Decision::kAllow, ""},
      {podList("status.phase!=Succeeded,spec.nodeName==n1"), Decision::kAllow, ""},
      {podList("spec.nodeName=n2"), Decision::kNoOpinion,
       "can only list/watch pods with spec.nodeName field selector"},
      {podList(""), Decision::kNoOpinion,
       "can only list/watch pods with spec.nodeName field selector"},
      {ask(node("n1"), "create", "pods", "default", ""), Decision::kAllow, ""},
      {ask(node("n1"), "update", "pods", "default", "web", "status"), Decision::kAllow, ""},
      {ask(node("n1"), "create", "pods", "default", "web", "eviction"), Decision::kAllow, ""},
      {ask(node("n1"), "update", "pods", "default", "web"), Decision::kNoOpinion, ""},
      {ask(node("n1"), "get", "pods", "default", "web", "log"), Decision::kNoOpinion, ""},
      {ask(node("n1"), "get", "secrets", "default", "pull"), Decision::kAllow, ""},
      {ask(node("n1"), "watch", "secrets", "default", "env-secret"), Decision::kAllow, ""},
      {ask(node("n1"), "list", "secrets", "default", "init-secret"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "secrets", "default", "vol-secret"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "secrets", "default", "proj-secret"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "secrets", "default", "csi-secret"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "secrets", "default", "other-secret"), Decision::kNoOpinion, none},
      {ask(node("n1"), "list", "secrets", "default", ""), Decision::kNoOpinion,
       "No Object name found"},
      {ask(node("n1"), "update", "secrets", "default", "pull"), Decision::kNoOpinion,
       "can only read resources of this type"},
      {ask(node("n1"), "get", "secrets", "", "pull"), Decision::kNoOpinion,
       "can only read namespaced object of this type"},
      {ask(node("n1"), "get", "configmaps", "default", "env-cm"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "configmaps", "default", "from-cm"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "configmaps", "default", "vol-cm"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "configmaps", "default", "proj-cm"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "configmaps", "kube-system", "env-cm"), Decision::kNoOpinion, none},
      {ask(node("n1"), "get", "persistentvolumeclaims", "default", "data"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "persistentvolumeclaims", "default", "web-scratch"), Decision::kAllow,
       ""},
      {ask(node("n1"), "list", "persistentvolumeclaims", "default", "data"), Decision::kNoOpinion,
       "can only get individual resources of this type"},
      {ask(node("n1"), "patch", "persistentvolumeclaims", "default", "data", "status"),
       Decision::kAllow, ""},
      {ask(node("n1"), "get", "persistentvolumeclaims", "default", "data", "status"),
       Decision::kNoOpinion, "can only get/update/patch this type"},
      {ask(node("n1"), "get", "persistentvolumes", "", "pv-data"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "persistentvolumes", "", "pv-other"), Decision::kNoOpinion, none},
      {ask(node("n1"), "get", "volumeattachments", "", "va-1", "", "storage.k8s.io"),
       Decision::kAllow, ""},
      {ask(node("n2"), "get", "volumeattachments", "", "va-1", "", "storage.k8s.io"),
       Decision::kNoOpinion, "no relationship found between node 'n2' and this object"},
      {ask(node("n1"), "create", "serviceaccounts", "default", "web-sa", "token"), Decision::kAllow,
       ""},
      {ask(node("n1"), "create", "serviceaccounts", "default", "other-sa", "token"),
       Decision::kNoOpinion, none},
      {ask(node("n1"), "get", "serviceaccounts", "default", "web-sa"), Decision::kNoOpinion,
       "can only create tokens for individual service accounts"},
  };
  for (const auto& c : cases) {
    auto result = node_.authorize(c.request);
    const std::string what = c.request.verb + " " + c.request.resource + "/" +
                             c.request.subresource + " " + c.request.namespace_ + "/" +
                             c.request.name + " ?" + c.request.fieldSelector;
    EXPECT_EQ(result.decision, c.decision) << what;
    EXPECT_EQ(result.reason, c.reason) << what;
  }
}

TEST_F(NodeAuthorizerTest, ItsOwnNodeLeaseAndTheStaticRules) {
  struct Case {
    Attributes request;
    Decision decision;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {ask(node("n1"), "get", "nodes", "", "n1"), Decision::kAllow, ""},
      {ask(node("n1"), "watch", "nodes", "", "n1"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "nodes", "", "n2"), Decision::kNoOpinion,
       "node 'n1' cannot read 'n2', only its own Node object"},
      {ask(node("n1"), "list", "nodes", "", ""), Decision::kNoOpinion,
       "node 'n1' cannot read all nodes, only its own Node object"},
      {ask(node("n1"), "create", "nodes", "", ""), Decision::kAllow, ""},
      {ask(node("n1"), "patch", "nodes", "", "n1", "status"), Decision::kAllow, ""},
      {ask(node("n1"), "get", "nodes", "", "n1", "proxy"), Decision::kNoOpinion, ""},
      {ask(node("n1"), "update", "leases", "kube-node-lease", "n1", "", "coordination.k8s.io"),
       Decision::kAllow, ""},
      {ask(node("n1"), "create", "leases", "kube-node-lease", "", "", "coordination.k8s.io"),
       Decision::kAllow, ""},
      {ask(node("n1"), "update", "leases", "kube-node-lease", "n2", "", "coordination.k8s.io"),
       Decision::kNoOpinion,
       "can only access node lease with the same name as the requesting node"},
      {ask(node("n1"), "get", "leases", "default", "n1", "", "coordination.k8s.io"),
       Decision::kNoOpinion, "can only access leases in the \"kube-node-lease\" system namespace"},
      {ask(node("n1"), "list", "leases", "kube-node-lease", "", "", "coordination.k8s.io"),
       Decision::kNoOpinion, "can only get, create, update, patch, or delete a node lease"},
      {ask(node("n1"), "create", "events", "default", ""), Decision::kAllow, ""},
      {ask(node("n1"), "list", "services", "", ""), Decision::kAllow, ""},
      {ask(node("n1"), "create", "certificatesigningrequests", "", "", "", "certificates.k8s.io"),
       Decision::kAllow, ""},
      {ask(node("n1"), "watch", "runtimeclasses", "", "", "", "node.k8s.io"), Decision::kAllow, ""},
      {ask(node("n1"), "delete", "services", "default", "x"), Decision::kNoOpinion, ""},
      {ask(node("n1"), "list", "namespaces", "", ""), Decision::kNoOpinion, ""},
  };
  for (const auto& c : cases) {
    auto result = node_.authorize(c.request);
    const std::string what = c.request.verb + " " + c.request.resource + "/" +
                             c.request.subresource + " " + c.request.namespace_ + "/" +
                             c.request.name;
    EXPECT_EQ(result.decision, c.decision) << what;
    EXPECT_EQ(result.reason, c.reason) << what;
  }
}

TEST_F(NodeAuthorizerTest, OnlyNodeIdentities) {
  UserInfo notInGroup{"system:node:n1", "", {"system:authenticated"}, {}};
  EXPECT_FALSE(nodeIdentity(notInGroup));
  EXPECT_EQ(node_.authorize(ask(notInGroup, "get", "nodes", "", "n1")).decision,
            Decision::kNoOpinion);
  UserInfo nameless{"system:node:", "", {"system:nodes"}, {}};
  auto result = node_.authorize(ask(nameless, "get", "nodes", "", "n1"));
  EXPECT_EQ(result.decision, Decision::kNoOpinion);
  EXPECT_EQ(result.reason, "unknown node for user \"system:node:\"");
  auto rules = node_.rulesFor(node("n1"), "default");
  EXPECT_TRUE(rules.incomplete);
  EXPECT_EQ(rules.errors,
            std::vector<std::string>{"node authorizer does not support user rule resolution"});
  EXPECT_FALSE(node_.rulesFor(UserInfo{"jane", "", {}, {}}, "default").incomplete);
}

TEST(FieldSelector, ParsesTermsAndEscapes) {
  auto parsed = parseFieldSelector("spec.nodeName=n1,status.phase!=Failed,metadata.name==a\\,b");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].field, "spec.nodeName");
  EXPECT_EQ((*parsed)[0].op, "=");
  EXPECT_EQ((*parsed)[1].op, "!=");
  EXPECT_EQ((*parsed)[2].value, "a,b");
  EXPECT_FALSE(parseFieldSelector("spec.nodeName"));
  EXPECT_TRUE(parseFieldSelector("")->empty());
}

}  // namespace
}  // namespace berth::controlplane::auth
