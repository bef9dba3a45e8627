#include "controlplane/auth/rbac_authorizer.h"

#include <gtest/gtest.h>

#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using testing::kRbac;

UserInfo user(std::string name, std::vector<std::string> groups = {}) {
  UserInfo u;
  u.name = std::move(name);
  u.groups = std::move(groups);
  u.groups.emplace_back("system:authenticated");
  return u;
}

Attributes request(UserInfo u, std::string verb, std::string resource, std::string ns = {},
                   std::string group = {}, std::string subresource = {}) {
  return testing::ask(std::move(u), std::move(verb), std::move(resource), std::move(ns), {},
                      std::move(subresource), std::move(group));
}

Attributes url(UserInfo u, std::string path) {
  Attributes a;
  a.user = std::move(u);
  a.verb = "get";
  a.resourceRequest = false;
  a.path = std::move(path);
  return a;
}

class RbacAuthorizerTest : public ::testing::Test {
 protected:
  RbacAuthorizerTest() : lookup_(std::make_shared<testing::MemoryObjectLookup>()), rbac_(lookup_) {
    testing::putBootstrapPolicy(*lookup_);
    lookup_->put(kRbac, "rolebindings", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "jane-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "User", "name": "jane"},
                     {"kind": "ServiceAccount", "name": "ci"}]})"));
    lookup_->put(kRbac, "roles", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "cm-reader"},
        "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"],
                   "resourceNames": ["settings"]}]})"));
    lookup_->put(kRbac, "rolebindings", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "readers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
        "subjects": [{"kind": "Group", "name": "readers"}]})"));
    lookup_->put(kRbac, "rolebindings", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "dangling"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "gone"},
        "subjects": [{"kind": "Group", "name": "readers"}]})"));
  }

  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  RbacAuthorizer rbac_;
};

TEST_F(RbacAuthorizerTest, DecidesFromTheBindings) {
  struct Case {
    const char* name;
    Attributes request;
    Decision decision;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"masters get everything", request(user("root", {"system:masters"}), "delete", "nodes"),
       Decision::kAllow,
       "RBAC: allowed by ClusterRoleBinding \"cluster-admin\" of ClusterRole \"cluster-admin\" to "
       "Group \"system:masters\""},
      {"edit in its namespace", request(user("jane"), "create", "deployments", "dev", "apps"),
       Decision::kAllow,
       "RBAC: allowed by RoleBinding \"jane-edit/dev\" of ClusterRole \"edit\" to User \"jane\""},
      {"not in another namespace", request(user("jane"), "create", "deployments", "prod", "apps"),
       Decision::kNoOpinion, ""},
      {"edit has no pod status", request(user("jane"), "update", "pods", "dev", "", "status"),
       Decision::kNoOpinion, ""},
      {"a service account subject in the binding's namespace",
       request(user("system:serviceaccount:dev:ci", {"system:serviceaccounts"}), "list", "pods",
               "dev"),
       Decision::kAllow,
       "RBAC: allowed by RoleBinding \"jane-edit/dev\" of ClusterRole \"edit\" to ServiceAccount "
       "\"ci/dev\""},
      {"the same name in another namespace is someone else",
       request(user("system:serviceaccount:prod:ci"), "list", "pods", "dev"), Decision::kNoOpinion,
       ""},
      {"discovery for the authenticated", url(user("anyone"), "/apis/apps"), Decision::kAllow,
       "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of ClusterRole "
       "\"system:discovery\" to Group \"system:authenticated\""},
      {"health for the anonymous",
       [] {
         Attributes a =
             url(UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}}, "/readyz");
         return a;
       }(),
       Decision::kAllow,
       "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole "
       "\"system:public-info-viewer\" to Group \"system:unauthenticated\""},
      {"but not discovery",
       url(UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}}, "/api"),
       Decision::kNoOpinion, ""},
      {"the kube-proxy user",
       request(user("system:kube-proxy"), "watch", "endpointslices", "", "discovery.k8s.io"),
       Decision::kAllow,
       "RBAC: allowed by ClusterRoleBinding \"system:node-proxier\" of ClusterRole "
       "\"system:node-proxier\" to User \"system:kube-proxy\""},
      {"nodes are not bound to system:node",
       request(user("system:node:n1", {"system:nodes"}), "get", "nodes"), Decision::kNoOpinion, ""},
  };
  for (const auto& c : cases) {
    auto result = rbac_.authorize(c.request);
    EXPECT_EQ(result.decision, c.decision) << c.name;
    EXPECT_EQ(result.reason, c.reason) << c.name;
  }
}

TEST_F(RbacAuthorizerTest, ResourceNamesAndMissingRoles) {
  auto a = request(user("ann", {"readers"}), "get", "configmaps", "dev");
  a.name = "settings";
  EXPECT_EQ(rbac_.authorize(a).decision, Decision::kAllow);
  a.name = "other";
  auto refused = rbac_.authorize(a);
  EXPECT_EQ(refused.decision, Decision::kNoOpinion);
  EXPECT_EQ(refused.reason, "RBAC: role.rbac.authorization.k8s.io \"gone\" not found");
}

TEST_F(RbacAuthorizerTest, RulesForAUser) {
  auto resolution = rbac_.rulesFor(user("ann", {"readers"}), "dev");
  EXPECT_EQ(resolution.errors,
            std::vector<std::string>{"role.rbac.authorization.k8s.io \"gone\" not found"});
  EXPECT_FALSE(resolution.incomplete);
  // system:basic-user, system:discovery, system:public-info-viewer and cm-reader.
  bool sawReader = false;
  for (const auto& rule : resolution.rules) {
    if (rule.contains("resourceNames") && rule["resourceNames"][0] == "settings") sawReader = true;
  }
  EXPECT_TRUE(sawReader);
  EXPECT_EQ(resolution.rules.size(), 5u);
  auto clusterOnly = rbac_.rulesFor(user("ann", {"readers"}), "");
  EXPECT_EQ(clusterOnly.rules.size(), 4u);
  EXPECT_TRUE(clusterOnly.errors.empty());
}

TEST_F(RbacAuthorizerTest, RoleReferenceRules) {
  auto rules = rbac_.roleReferenceRules(
      nlohmann::json::parse(R"({"kind":"Role","name":"cm-reader"})"), "dev");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->size(), 1u);
  auto missing =
      rbac_.roleReferenceRules(nlohmann::json::parse(R"({"kind":"ClusterRole","name":"x"})"), "");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "clusterroles.rbac.authorization.k8s.io \"x\" not found");
}

}  // namespace
}  // namespace berth::controlplane::auth
