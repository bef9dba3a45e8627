#include "controlplane/auth/bootstrap_policy.h"

#include <gtest/gtest.h>

#include "controlplane/auth/policy_rule.h"
#include "controlplane/auth/role_aggregation.h"

namespace berth::controlplane::auth {
namespace {

const nlohmann::json& clusterRole(std::string_view name) {
  for (const auto& role : bootstrapPolicy().clusterRoles) {
    if (role["metadata"]["name"] == name) return role;
  }
  static const nlohmann::json kNone;
  ADD_FAILURE() << "no ClusterRole " << name;
  return kNone;
}

bool roleAllows(std::string_view role, std::string verb, std::string group, std::string resource,
                std::string subresource = {}) {
  Attributes a;
  a.verb = std::move(verb);
  a.apiGroup = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(subresource);
  a.namespace_ = "default";
  return rbac::rulesAllow(a, clusterRole(role)["rules"]);
}

TEST(BootstrapPolicy, HasTheUpstreamObjects) {
  const auto& policy = bootstrapPolicy();
  EXPECT_EQ(policy.clusterRoles.size(), 31u);
  EXPECT_EQ(policy.clusterRoleBindings.size(), 12u);
  EXPECT_EQ(policy.roles.size(), 7u);
  EXPECT_EQ(policy.roleBindings.size(), 7u);
  for (const auto& list :
       {policy.clusterRoles, policy.clusterRoleBindings, policy.roles, policy.roleBindings}) {
    for (const auto& object : list) {
      EXPECT_EQ(object["apiVersion"], "rbac.authorization.k8s.io/v1");
      EXPECT_EQ(object["metadata"]["labels"]["kubernetes.io/bootstrapping"], "rbac-defaults");
      EXPECT_EQ(object["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"],
                "true");
    }
  }
  const auto& masters = policy.clusterRoleBindings.front();
  EXPECT_EQ(masters, nlohmann::json::parse(R"({
      "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
      "metadata": {"name": "cluster-admin",
                   "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
                   "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}},
      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                  "name": "cluster-admin"},
      "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                    "name": "system:masters"}]})"));
  // Every binding refers to a role of the policy.
  for (const auto& binding : policy.clusterRoleBindings) {
    EXPECT_FALSE(clusterRole(binding["roleRef"]["name"].get<std::string>()).is_null());
  }
}

TEST(BootstrapPolicy, AdminEditAndViewAreAggregated) {
  struct Case {
    const char* verb;
    const char* group;
    const char* resource;
    const char* subresource;
    bool view, edit, admin;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"get", "", "pods", "", true, true, true},
           {"get", "", "pods", "log", true, true, true},
           {"create", "", "pods", "exec", false, true, true},
           {"get", "", "secrets", "", false, true, true},
           {"create", "apps", "deployments", "", false, true, true},
           {"get", "discovery.k8s.io", "endpointslices", "", true, true, true},
           {"create", "rbac.authorization.k8s.io", "rolebindings", "", false, false, true},
           {"create", "authorization.k8s.io", "localsubjectaccessreviews", "", false, false, true},
           {"get", "", "nodes", "", false, false, false},
           {"update", "", "pods", "status", false, false, false},
       }) {
    const std::string what =
        std::string(c.verb) + " " + c.group + "/" + c.resource + "/" + c.subresource;
    EXPECT_EQ(roleAllows("view", c.verb, c.group, c.resource, c.subresource), c.view) << what;
    EXPECT_EQ(roleAllows("edit", c.verb, c.group, c.resource, c.subresource), c.edit) << what;
    EXPECT_EQ(roleAllows("admin", c.verb, c.group, c.resource, c.subresource), c.admin) << what;
  }
  // Aggregation is the controller's: view's rules are exactly system:aggregate-to-view's.
  EXPECT_EQ(clusterRole("view")["rules"], clusterRole("system:aggregate-to-view")["rules"]);
  EXPECT_TRUE(clusterRole("admin").contains("aggregationRule"));
}

TEST(RoleAggregation, FollowsTheSelectorsInNameOrder) {
  std::vector<nlohmann::json> roles = {
      nlohmann::json::parse(
          R"({"metadata":{"name":"all"},"aggregationRule":{"clusterRoleSelectors":[
          {"matchLabels":{"tier":"x"}},
          {"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}]}]}})"),
      nlohmann::json::parse(R"({"metadata":{"name":"b","labels":{"tier":"x"}},
          "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["b"]}]})"),
      nlohmann::json::parse(R"({"metadata":{"name":"a","labels":{"team":"b"}},
          "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["a"]},
                   {"verbs":["get"],"apiGroups":[""],"resources":["b"]}]})"),
      nlohmann::json::parse(R"({"metadata":{"name":"c","labels":{"team":"c"}},
          "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["c"]}]})"),
  };
  auto rules = aggregatedRules(roles[0], roles);
  EXPECT_EQ(nlohmann::json(rules), nlohmann::json::parse(R"([
      {"verbs":["get"],"apiGroups":[""],"resources":["a"]},
      {"verbs":["get"],"apiGroups":[""],"resources":["b"]}])"));
  EXPECT_TRUE(labelSelectorMatches(nlohmann::json::object(), nlohmann::json::object()));
  EXPECT_FALSE(labelSelectorMatches(
      nlohmann::json::parse(R"({"matchExpressions":[{"key":"x","operator":"Exists"}]})"),
      nlohmann::json::object()));
  EXPECT_TRUE(labelSelectorMatches(
      nlohmann::json::parse(R"({"matchExpressions":[{"key":"x","operator":"DoesNotExist"}]})"),
      nlohmann::json::object()));
}

TEST(BootstrapPolicy, NodeRulesAndTlsBootstrapBindings) {
  EXPECT_EQ(nodeRules(), clusterRole("system:node")["rules"]);
  const auto& tls = tlsBootstrapClusterRoleBindings();
  ASSERT_EQ(tls.size(), 3u);
  EXPECT_EQ(tls[0]["roleRef"]["name"], "system:node-bootstrapper");
  EXPECT_EQ(tls[0]["subjects"][0]["name"], "system:bootstrappers");
}

}  // namespace
}  // namespace berth::controlplane::auth
