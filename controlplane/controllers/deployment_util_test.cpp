// The Deployment controller's arithmetic against upstream's (deployment/util tests and
// intstr's rounding).
#include "controlplane/controllers/deployment_util.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers::deployment {
namespace deployment_util_test {

using nlohmann::json;

json rollingDeployment(int replicas, json surge, json unavailable) {
  return {{"metadata", {{"name", "web"}, {"generation", 1}}},
          {"spec",
           {{"replicas", replicas},
            {"strategy",
             {{"type", "RollingUpdate"},
              {"rollingUpdate", {{"maxSurge", surge}, {"maxUnavailable", unavailable}}}}}}}};
}

json replicaSet(std::string name, int replicas, std::string created, json annotations = nullptr) {
  json rs = {{"metadata", {{"name", name}, {"uid", name}, {"creationTimestamp", created}}},
             {"spec", {{"replicas", replicas}}}};
  if (!annotations.is_null()) rs["metadata"]["annotations"] = annotations;
  return rs;
}

TEST(DeploymentUtilTest, PercentRoundsSurgeUpAndUnavailabilityDown) {
  struct Case {
    json surge, unavailable;
    int replicas, wantSurge, wantUnavailable;
  } cases[] = {
      {"25%", "25%", 10, 3, 2},                          // 2.5 up and down
      {"25%", "25%", 1, 1, 0},  {"0%", "0%", 10, 0, 1},  // both zero: one may be unavailable
      {1, 0, 3, 1, 0},          {"100%", 0, 3, 3, 0},   {"50%", "50%", 5, 3, 2},
  };
  for (const auto& c : cases) {
    auto f = resolveFenceposts(c.surge, c.unavailable, c.replicas);
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(f->maxSurge, c.wantSurge) << c.surge << " of " << c.replicas;
    EXPECT_EQ(f->maxUnavailable, c.wantUnavailable) << c.unavailable << " of " << c.replicas;
  }
  auto bad = scaledValue("25", 10, true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "invalid value for IntOrString: invalid type: string is not a percentage");
}

TEST(DeploymentUtilTest, MaxUnavailableIsCappedAndZeroForRecreate) {
  EXPECT_EQ(maxUnavailable(rollingDeployment(2, 0, 5)), 2);
  json recreate = rollingDeployment(3, 1, 1);
  recreate["spec"]["strategy"] = {{"type", "Recreate"}};
  EXPECT_EQ(maxUnavailable(recreate), 0);
  EXPECT_EQ(maxSurge(recreate), 0);
}

TEST(DeploymentUtilTest, HashIsFnv32aSafeEncoded) {
  // FNV-1a test vectors.
  EXPECT_EQ(fnv32a(""), 0x811c9dc5u);
  EXPECT_EQ(fnv32a("a"), 0xe40c292cu);
  EXPECT_EQ(fnv32a("foobar"), 0xbf9cf968u);
  // SafeEncodeString maps each byte to one of 27 vowel-free characters ('0' is 48, 48 % 27 = 21).
  EXPECT_EQ(safeEncodeString("0123456789"), "456789bcdf");
  json tmpl = {{"metadata", {{"labels", {{"app", "web"}}}}},
               {"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}};
  std::string h = computeHash(tmpl, std::nullopt);
  EXPECT_EQ(h, computeHash(tmpl, std::nullopt));
  EXPECT_NE(h, computeHash(tmpl, 1));
  json other = tmpl;
  other["spec"]["containers"][0]["image"] = "nginx:2";
  EXPECT_NE(h, computeHash(other, std::nullopt));
  EXPECT_EQ(h.find_first_of("aeiou013"), std::string::npos);
}

TEST(DeploymentUtilTest, EqualIgnoresOnlyThePodTemplateHash) {
  json a = {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", {{"x", 1}}}};
  json b = a;
  b["metadata"]["labels"]["pod-template-hash"] = "abc";
  EXPECT_TRUE(equalIgnoreHash(a, b));
  b["spec"]["x"] = 2;
  EXPECT_FALSE(equalIgnoreHash(a, b));
}

TEST(DeploymentUtilTest, NewReplicaSetGrowsWithinSurge) {
  json d = rollingDeployment(4, 1, 1);
  json oldRS = replicaSet("old", 4, "2024-01-01T00:00:00Z");
  json newRS = replicaSet("new", 0, "2024-01-02T00:00:00Z");
  auto n = newRSNewReplicas(d, {oldRS, newRS}, newRS);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1);  // 4 + 1 surge - 4 current
  oldRS["spec"]["replicas"] = 2;
  newRS["spec"]["replicas"] = 3;
  n = newRSNewReplicas(d, {oldRS, newRS}, newRS);
  EXPECT_EQ(*n, 3);  // already at 5 pods
  oldRS["spec"]["replicas"] = 0;
  n = newRSNewReplicas(d, {oldRS, newRS}, newRS);
  EXPECT_EQ(*n, 4);  // never past replicas
}

TEST(DeploymentUtilTest, ProportionFollowsMaxReplicasAnnotation) {
  // A Deployment of 10 (surge 3) scaled to 15 mid-rollout: sets of 8 and 5 annotated max 13.
  json d = rollingDeployment(15, 3, 0);
  json big = replicaSet("a", 8, "2024-01-01T00:00:00Z", {{kMaxReplicasAnnotation, "13"}});
  json small = replicaSet("b", 5, "2024-01-02T00:00:00Z", {{kMaxReplicasAnnotation, "13"}});
  // allowed 15 + 4 (25% surge rounds up... here surge is 3) = 18; toAdd = 18 - 13 = 5.
  std::int32_t toAdd = 15 + maxSurge(d) - 13;
  ASSERT_EQ(toAdd, 5);
  std::int32_t first = proportion(big, d, toAdd, 0);
  EXPECT_EQ(first, 3);                               // round(8 * 18 / 13) - 8 = 11 - 8
  EXPECT_EQ(proportion(small, d, toAdd, first), 2);  // round(5*18/13)=7 -> 2, within what is left
}

TEST(DeploymentUtilTest, RevisionAnnotationsKeepHistoryOnRollback) {
  json d = {{"metadata",
             {{"annotations", {{"kubernetes.io/change-cause", "v2"}, {kRevisionAnnotation, "3"}}}}},
            {"spec",
             {{"replicas", 2},
              {"strategy", {{"rollingUpdate", {{"maxSurge", "25%"}, {"maxUnavailable", 0}}}}}}}};
  json rs = replicaSet("x", 0, "2024-01-01T00:00:00Z", {{kRevisionAnnotation, "1"}});
  EXPECT_TRUE(setNewReplicaSetAnnotations(d, rs, "4", true));
  EXPECT_EQ(rs["metadata"]["annotations"][std::string(kRevisionAnnotation)], "4");
  EXPECT_EQ(rs["metadata"]["annotations"][std::string(kRevisionHistoryAnnotation)], "1");
  EXPECT_EQ(rs["metadata"]["annotations"]["kubernetes.io/change-cause"], "v2");
  EXPECT_TRUE(setNewReplicaSetAnnotations(d, rs, "6", true));
  EXPECT_EQ(rs["metadata"]["annotations"][std::string(kRevisionHistoryAnnotation)], "1,4");
  EXPECT_FALSE(setNewReplicaSetAnnotations(d, rs, "5", true));  // never lowered
  json fresh = replicaSet("y", 0, "2024-01-01T00:00:00Z");
  setNewReplicaSetAnnotations(d, fresh, "1", false);
  EXPECT_EQ(fresh["metadata"]["annotations"][std::string(kDesiredReplicasAnnotation)], "2");
  EXPECT_EQ(fresh["metadata"]["annotations"][std::string(kMaxReplicasAnnotation)], "3");
}

TEST(DeploymentUtilTest, ConditionKeepsTransitionTimeWhenOnlyReasonChanges) {
  json status = json::object();
  auto t0 = kubeapi::Time(std::chrono::seconds(1000));
  auto t1 = kubeapi::Time(std::chrono::seconds(2000));
  setCondition(status, newCondition("Progressing", "True", kNewReplicaSetReason, "a", t0));
  setCondition(status, newCondition("Progressing", "True", kReplicaSetUpdatedReason, "b", t1));
  const json* c = getCondition(status, "Progressing");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ((*c)["reason"], kReplicaSetUpdatedReason);
  EXPECT_EQ((*c)["lastTransitionTime"], kubeapi::formatTime(t0));
  EXPECT_EQ((*c)["lastUpdateTime"], kubeapi::formatTime(t1));
  // Same status and reason: nothing changes, not even the message.
  setCondition(status, newCondition("Progressing", "True", kReplicaSetUpdatedReason, "c", t1));
  EXPECT_EQ((*getCondition(status, "Progressing"))["message"], "b");
}

}  // namespace deployment_util_test
}  // namespace berth::controlplane::controllers::deployment
