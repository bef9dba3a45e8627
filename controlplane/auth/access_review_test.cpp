#include "controlplane/auth/access_review.h"

#include <gtest/gtest.h>

#include "controlplane/auth/authorization.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

class AccessReviewTest : public ::testing::Test {
 protected:
  AccessReviewTest() : lookup_(std::make_shared<testing::MemoryObjectLookup>()) {
    testing::putBootstrapPolicy(*lookup_);
    lookup_->put("rbac.authorization.k8s.io", "rolebindings", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "jane-view"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "jane"}]})"));
    authorization_ =
        buildAuthorization({AuthorizationMode::kNode, AuthorizationMode::kRbac}, lookup_);
  }

  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  Authorization authorization_;
  UserInfo jane_{"jane", "", {"system:authenticated"}, {}};
};

TEST_F(AccessReviewTest, SelfSubjectAccessReviewIsKubectlAuthCanI) {
  auto review = [&](const char* attributes) {
    auto result = reviewSelfSubjectAccess(
        *authorization_.authorizer, jane_,
        {{"apiVersion", "authorization.k8s.io/v1"},
         {"kind", "SelfSubjectAccessReview"},
         {"spec", {{"resourceAttributes", nlohmann::json::parse(attributes)}}}});
    EXPECT_TRUE(result);
    return (*result)["status"];
  };
  auto yes = review(R"({"namespace":"dev","verb":"list","resource":"pods"})");
  EXPECT_EQ(yes["allowed"], true);
  EXPECT_EQ(yes["reason"],
            "RBAC: allowed by RoleBinding \"jane-view/dev\" of ClusterRole \"view\" to User "
            "\"jane\"");
  auto no = review(R"({"namespace":"dev","verb":"create","resource":"pods"})");
  EXPECT_EQ(no, nlohmann::json::parse(R"({"allowed": false})"));
  EXPECT_EQ(review(R"({"namespace":"prod","verb":"list","resource":"pods"})")["allowed"], false);
  auto url = reviewSelfSubjectAccess(
      *authorization_.authorizer, jane_,
      {{"spec", {{"nonResourceAttributes", {{"path", "/version"}, {"verb", "get"}}}}}});
  EXPECT_EQ((*url)["status"]["allowed"], true);
}

TEST_F(AccessReviewTest, SubjectAccessReviewsAndTheirValidation) {
  auto sar = reviewSubjectAccess(*authorization_.authorizer, nlohmann::json::parse(R"({
      "spec": {"user": "system:kube-proxy", "groups": ["system:authenticated"],
               "resourceAttributes": {"verb": "watch", "resource": "services"}}})"));
  ASSERT_TRUE(sar);
  EXPECT_EQ((*sar)["status"]["allowed"], true);
  struct Case {
    const char* body;
    const char* message;
  };
  for (const auto& c : std::initializer_list<Case>{
           {R"({"spec": {"user": "jane"}})",
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: "
            "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes "
            "must be specified"},
           {R"({"spec": {"resourceAttributes": {"verb": "get"}}})",
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: "
            "\"\": at least one of user or group must be specified"},
       }) {
    auto result = reviewSubjectAccess(*authorization_.authorizer, nlohmann::json::parse(c.body));
    ASSERT_FALSE(result) << c.body;
    EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(result.error().message(), c.message);
  }
  auto local =
      reviewLocalSubjectAccess(*authorization_.authorizer, "dev", nlohmann::json::parse(R"({
      "spec": {"user": "jane", "resourceAttributes": {"namespace": "prod", "verb": "get",
                                                      "resource": "pods"}}})"));
  ASSERT_FALSE(local);
  EXPECT_EQ(local.error().message(), "spec.resourceAttributes.namespace must match namespace: dev");
}

TEST_F(AccessReviewTest, SelfSubjectRulesReviewIsKubectlAuthCanIList) {
  auto rules =
      reviewSelfSubjectRules(*authorization_.rules, jane_, {{"spec", {{"namespace", "dev"}}}});
  ASSERT_TRUE(rules);
  const auto& status = (*rules)["status"];
  EXPECT_EQ(status["incomplete"], false);
  EXPECT_FALSE(status.contains("evaluationError"));
  bool sawPods = false;
  for (const auto& rule : status["resourceRules"]) {
    for (const auto& resource : rule.value("resources", nlohmann::json::array())) {
      if (resource == "pods") sawPods = true;
    }
  }
  EXPECT_TRUE(sawPods);
  EXPECT_FALSE(status["nonResourceRules"].empty());

  UserInfo n1{"system:node:n1", "", {"system:nodes", "system:authenticated"}, {}};
  auto node = reviewSelfSubjectRules(*authorization_.rules, n1, {{"spec", {{"namespace", "dev"}}}});
  EXPECT_EQ((*node)["status"]["incomplete"], true);
  EXPECT_EQ((*node)["status"]["evaluationError"],
            "node authorizer does not support user rule resolution");
  auto noNamespace = reviewSelfSubjectRules(*authorization_.rules, jane_, {{"spec", {}}});
  ASSERT_FALSE(noNamespace);
  EXPECT_EQ(noNamespace.error().message(), "no namespace on request");

  auto whoami = reviewSelf(jane_, {{"kind", "SelfSubjectReview"}});
  EXPECT_EQ(whoami["status"]["userInfo"]["username"], "jane");
}

}  // namespace
}  // namespace berth::controlplane::auth
