#include "controlplane/auth/authorization.h"

#include <gtest/gtest.h>

#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using testing::ask;

TEST(AuthorizationModes, ParseAsTheFlag) {
  auto modes = parseAuthorizationModes("Node,RBAC");
  ASSERT_TRUE(modes);
  EXPECT_EQ(*modes,
            (std::vector<AuthorizationMode>{AuthorizationMode::kNode, AuthorizationMode::kRbac}));
  struct Case {
    const char* flag;
    const char* error;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"Node,Foo", "authorization-mode \"Foo\" is not a valid mode"},
           {"RBAC,RBAC", "authorization-mode \"RBAC,RBAC\" has mode specified more than once"},
           {"Webhook", "authorization-mode \"Webhook\" is not supported by berth-server"},
           {"", "authorization-mode \"\" is not a valid mode"},
       }) {
    auto parsed = parseAuthorizationModes(c.flag);
    ASSERT_FALSE(parsed) << c.flag;
    EXPECT_EQ(parsed.error().message(), c.error);
  }
}

TEST(Authorization, TheChainAndItsReasons) {
  auto lookup = std::make_shared<testing::MemoryObjectLookup>();
  testing::putBootstrapPolicy(*lookup);
  auto authorization =
      buildAuthorization({AuthorizationMode::kNode, AuthorizationMode::kRbac}, lookup);
  const auto& chain = *authorization.authorizer;
  UserInfo root{"root", "", {"system:masters"}, {}};
  EXPECT_EQ(chain.authorize(ask(root, "delete", "nodes", "", "n1")).decision, Decision::kAllow);
  UserInfo n1{"system:node:n1", "", {"system:nodes", "system:authenticated"}, {}};
  auto refused = chain.authorize(ask(n1, "get", "secrets", "default", "s"));
  EXPECT_EQ(refused.decision, Decision::kNoOpinion);
  EXPECT_EQ(refused.reason, "no relationship found between node 'n1' and this object");
  EXPECT_EQ(forbiddenMessage(ask(n1, "get", "secrets", "default", "s"), refused.reason),
            "secrets \"s\" is forbidden: User \"system:node:n1\" cannot get resource \"secrets\" "
            "in API group \"\" in the namespace \"default\": no relationship found between node "
            "'n1' and this object");
  // Nodes still get what the RBAC policy gives every authenticated user.
  Attributes ssar = ask(n1, "create", "selfsubjectaccessreviews");
  ssar.apiGroup = "authorization.k8s.io";
  EXPECT_EQ(chain.authorize(ssar).decision, Decision::kAllow);

  auto denyAll = buildAuthorization({AuthorizationMode::kAlwaysDeny}, lookup);
  auto denied = denyAll.authorizer->authorize(ask(UserInfo{"jane", "", {}, {}}, "get", "pods"));
  EXPECT_EQ(denied.decision, Decision::kNoOpinion);
  EXPECT_EQ(denied.reason, "Everything is forbidden.");
  EXPECT_FALSE(denyAll.escalation);
  auto allowAll = buildAuthorization({AuthorizationMode::kAlwaysAllow}, lookup);
  EXPECT_EQ(
      allowAll.authorizer->authorize(ask(UserInfo{"jane", "", {}, {}}, "get", "pods")).decision,
      Decision::kAllow);
  EXPECT_EQ(allowAll.rules->rulesFor(UserInfo{"jane", "", {}, {}}, "default").rules.size(), 2u);
}

TEST(Authorization, ForbiddenMessages) {
  UserInfo jane{"jane", "", {}, {}};
  Attributes cluster = ask(jane, "list", "deployments");
  cluster.apiGroup = "apps";
  EXPECT_EQ(forbiddenMessage(cluster, ""),
            "deployments.apps is forbidden: User \"jane\" cannot list resource \"deployments\" in "
            "API group \"apps\" at the cluster scope");
  Attributes log = ask(jane, "get", "pods", "default", "web");
  log.subresource = "log";
  EXPECT_EQ(forbiddenMessage(log, ""),
            "pods \"web\" is forbidden: User \"jane\" cannot get resource \"pods/log\" in API "
            "group \"\" in the namespace \"default\"");
  Attributes path;
  path.user = UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}};
  path.resourceRequest = false;
  path.verb = "get";
  path.path = "/api/<x>";
  EXPECT_EQ(forbiddenMessage(path, ""),
            "forbidden: User \"system:anonymous\" cannot get path \"/api/&lt;x&gt;\"");
}

}  // namespace
}  // namespace berth::controlplane::auth
