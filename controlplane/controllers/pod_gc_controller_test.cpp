#include "controlplane/controllers/pod_gc_controller.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace pod_gc_controller_test {

using nlohmann::json;

kubeapi::ObjectPtr pod(std::string name, std::string phase, std::string created,
                       bool deleting = false) {
  json p = {{"metadata", {{"name", name}, {"creationTimestamp", created}}},
            {"status", {{"phase", phase}}}};
  if (deleting) p["metadata"]["deletionTimestamp"] = created;
  return std::make_shared<const json>(std::move(p));
}

std::vector<std::string> names(const std::vector<kubeapi::ObjectPtr>& pods) {
  std::vector<std::string> out;
  for (const auto& p : pods)
    out.push_back((*p)["metadata"]["name"]);
  return out;
}

TEST(PodGcTest, OldestTerminatedPodsOverThresholdGo) {
  std::vector<kubeapi::ObjectPtr> pods = {
      pod("new-failed", "Failed", "2026-01-03T00:00:00Z"),
      pod("running", "Running", "2026-01-01T00:00:00Z"),
      pod("old-succeeded", "Succeeded", "2026-01-01T00:00:00Z"),
      pod("mid-failed", "Failed", "2026-01-02T00:00:00Z"),
      pod("deleting", "Failed", "2025-01-01T00:00:00Z", true),
  };
  EXPECT_EQ(names(terminatedPodsOverThreshold(pods, 1)),
            (std::vector<std::string>{"old-succeeded", "mid-failed"}));
  EXPECT_TRUE(terminatedPodsOverThreshold(pods, 3).empty());
  EXPECT_TRUE(terminatedPodsOverThreshold(pods, 0).empty()) << "0 means no limit";
}

}  // namespace pod_gc_controller_test
}  // namespace berth::controlplane::controllers
