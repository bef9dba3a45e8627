#include "controlplane/controllers/ttl_after_finished_controller.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace ttl_after_finished_controller_test {

using nlohmann::json;

json job(std::optional<int> ttl, json conditions) {
  json j = {{"metadata", {{"name", "j"}, {"namespace", "default"}}},
            {"spec", json::object()},
            {"status", {{"conditions", std::move(conditions)}}}};
  if (ttl) j["spec"]["ttlSecondsAfterFinished"] = *ttl;
  return j;
}

json finished(const char* type, const char* status, const char* at) {
  return json::array({{{"type", type}, {"status", status}, {"lastTransitionTime", at}}});
}

TEST(TtlAfterFinishedTest, ExpiryIsFinishTimePlusTtl) {
  kubeapi::Time at = *kubeapi::parseTime("2026-01-01T00:00:00Z");
  auto complete = jobExpiry(job(10, finished("Complete", "True", "2026-01-01T00:00:00Z")));
  ASSERT_TRUE(complete && *complete);
  EXPECT_EQ(**complete, at + std::chrono::seconds(10));
  auto failed = jobExpiry(job(0, finished("Failed", "True", "2026-01-01T00:00:00Z")));
  ASSERT_TRUE(failed && *failed);
  EXPECT_EQ(**failed, at);
  // No TTL, not finished, or being deleted: never.
  EXPECT_FALSE(*jobExpiry(job({}, finished("Complete", "True", "2026-01-01T00:00:00Z"))));
  EXPECT_FALSE(*jobExpiry(job(10, finished("Complete", "False", "2026-01-01T00:00:00Z"))));
  EXPECT_FALSE(*jobExpiry(job(10, finished("Suspended", "True", "2026-01-01T00:00:00Z"))));
  json deleting = job(10, finished("Complete", "True", "2026-01-01T00:00:00Z"));
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:01Z";
  EXPECT_FALSE(*jobExpiry(deleting));
  // Finished without a time: an error naming the Job.
  auto untimed = jobExpiry(job(10, finished("Complete", "True", "")));
  ASSERT_FALSE(untimed);
  EXPECT_NE(untimed.error().message().find("default/j"), std::string::npos);
}

}  // namespace ttl_after_finished_controller_test
}  // namespace berth::controlplane::controllers
