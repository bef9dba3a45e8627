#include "controlplane/auth/escalation.h"

#include <gtest/gtest.h>

#include "controlplane/auth/authorization.h"
#include "controlplane/auth/testing/auth_fixtures.h"
#include "controlplane/auth/testing/memory_object_lookup.h"

namespace berth::controlplane::auth {
namespace {

using testing::kRbac;

UserInfo jane() {
  return UserInfo{"jane", "", {"dev", "system:authenticated"}, {}};
}

nlohmann::json role(const char* rules) {
  return {{"metadata", {{"name", "made-up"}, {"namespace", "dev"}}},
          {"rules", nlohmann::json::parse(rules)}};
}

nlohmann::json binding(const char* kind, const char* roleName) {
  return {{"metadata", {{"name", "grant"}, {"namespace", "dev"}}},
          {"roleRef", {{"apiGroup", kRbac}, {"kind", kind}, {"name", roleName}}},
          {"subjects", {{{"kind", "User"}, {"name", "bob"}}}}};
}

class EscalationTest : public ::testing::Test {
 protected:
  EscalationTest() : lookup_(std::make_shared<testing::MemoryObjectLookup>()) {
    testing::putBootstrapPolicy(*lookup_);
    lookup_->put(kRbac, "rolebindings", nlohmann::json::parse(R"({
        "metadata": {"namespace": "dev", "name": "jane-edit"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
        "subjects": [{"kind": "User", "name": "jane"}]})"));
    authorization_ =
        buildAuthorization({AuthorizationMode::kNode, AuthorizationMode::kRbac}, lookup_);
  }

  void grant(const char* rules) {
    lookup_->put(kRbac, "clusterroles",
                 {{"metadata", {{"name", "jane-extra"}}}, {"rules", nlohmann::json::parse(rules)}});
    lookup_->put(kRbac, "clusterrolebindings",
                 nlohmann::json::parse(R"({"metadata": {"name": "jane-extra"},
                     "roleRef": {"kind": "ClusterRole", "name": "jane-extra"},
                     "subjects": [{"kind": "User", "name": "jane"}]})"));
  }

  const EscalationCheck& check() { return *authorization_.escalation; }

  std::shared_ptr<testing::MemoryObjectLookup> lookup_;
  Authorization authorization_;
};

TEST_F(EscalationTest, ARoleHoldsOnlyWhatItsAuthorHolds) {
  EXPECT_TRUE(check().checkRoleWrite(
      jane(), "roles", "dev",
      role(R"([{"verbs":["get","list"],"apiGroups":[""],"resources":["pods","secrets"]}])"),
      nullptr));
  auto escalating = check().checkRoleWrite(
      jane(), "roles", "dev",
      role(R"([{"verbs":["get","list"],"apiGroups":[""],"resources":["pods","nodes"]},
               {"verbs":["get"],"nonResourceURLs":["/metrics"]}])"),
      nullptr);
  ASSERT_FALSE(escalating);
  EXPECT_EQ(escalating.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(escalating.error().message(),
            "roles.rbac.authorization.k8s.io \"made-up\" is forbidden: user \"jane\" "
            "(groups=[\"dev\" \"system:authenticated\"]) is attempting to grant RBAC permissions "
            "not currently held:\n"
            "{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\" \"list\"]}\n"
            "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}");
  // In another namespace jane holds nothing of edit.
  EXPECT_FALSE(check().checkRoleWrite(
      jane(), "roles", "prod", role(R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])"),
      nullptr));
  // system:masters may write anything.
  EXPECT_TRUE(check().checkRoleWrite(
      UserInfo{"root", "", {"system:masters"}, {}}, "clusterroles", "",
      role(R"([{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}])"), nullptr));
}

TEST_F(EscalationTest, EscalateAndBindVerbsLiftTheCheck) {
  const char* nodes = R"([{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]}])";
  EXPECT_FALSE(check().checkRoleWrite(jane(), "roles", "dev", role(nodes), nullptr));
  grant(
      R"([{"verbs":["escalate"],"apiGroups":["rbac.authorization.k8s.io"],"resources":["roles"]}])");
  EXPECT_TRUE(check().checkRoleWrite(jane(), "roles", "dev", role(nodes), nullptr));

  auto toAdmin = check().checkBindingWrite(jane(), "rolebindings", "dev",
                                           binding("ClusterRole", "admin"), nullptr);
  ASSERT_FALSE(toAdmin);
  EXPECT_TRUE(toAdmin.error().message().starts_with(
      "rolebindings.rbac.authorization.k8s.io \"grant\" is forbidden: user \"jane\""));
  EXPECT_NE(toAdmin.error().message().find("Resources:[\"rolebindings\"]"), std::string::npos);
  // edit is jane's own: she may bind it.
  EXPECT_TRUE(check().checkBindingWrite(jane(), "rolebindings", "dev",
                                        binding("ClusterRole", "edit"), nullptr));
  grant(R"([{"verbs":["bind"],"apiGroups":["rbac.authorization.k8s.io"],
             "resources":["clusterroles"],"resourceNames":["admin"]}])");
  EXPECT_TRUE(check().checkBindingWrite(jane(), "rolebindings", "dev",
                                        binding("ClusterRole", "admin"), nullptr));
  auto missing =
      check().checkBindingWrite(jane(), "rolebindings", "dev", binding("Role", "nope"), nullptr);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().message(), "roles.rbac.authorization.k8s.io \"nope\" not found");
}

TEST_F(EscalationTest, AggregationNeedsClusterAdminAndGcUpdatesPass) {
  grant(R"([{"verbs":["*"],"apiGroups":["rbac.authorization.k8s.io"],"resources":["clusterroles"]},
            {"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])");
  nlohmann::json aggregated = {
      {"metadata", {{"name", "gather"}}},
      {"aggregationRule", {{"clusterRoleSelectors", {{{"matchLabels", {{"x", "y"}}}}}}}}};
  // jane may escalate clusterroles: allowed. Without it, the aggregation rule needs everything.
  EXPECT_TRUE(check().checkRoleWrite(jane(), "clusterroles", "", aggregated, nullptr));
  grant(R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}])");
  auto refused = check().checkRoleWrite(jane(), "clusterroles", "", aggregated, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(),
            "clusterroles.rbac.authorization.k8s.io \"gather\" is forbidden: must have "
            "cluster-admin privileges to use the aggregationRule");

  nlohmann::json old = role(R"([{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]}])");
  nlohmann::json finalized = old;
  finalized["metadata"]["finalizers"] = {"example.com/keep"};
  EXPECT_TRUE(check().checkRoleWrite(jane(), "roles", "dev", finalized, &old));
  nlohmann::json relabeled = old;
  relabeled["metadata"]["labels"] = {{"a", "b"}};
  EXPECT_FALSE(check().checkRoleWrite(jane(), "roles", "dev", relabeled, &old));
}

}  // namespace
}  // namespace berth::controlplane::auth
