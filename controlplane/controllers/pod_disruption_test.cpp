#include "controlplane/controllers/pod_disruption.h"

#include <gtest/gtest.h>

namespace berth::controlplane::controllers {
namespace pod_disruption_test {

using nlohmann::json;

TEST(PodDisruptionTest, ConditionAddedAndOrphanMarkedFailed) {
  json running = {{"status",
                   {{"phase", "Running"},
                    {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  json gc = withDisruptionTarget(running, "DeletionByPodGC", "PodGC: node no longer exists", true);
  EXPECT_EQ(gc["status"]["phase"], "Failed");
  ASSERT_EQ(gc["status"]["conditions"].size(), 2u);
  EXPECT_EQ(gc["status"]["conditions"][1]["type"], "DisruptionTarget");
  EXPECT_EQ(gc["status"]["conditions"][1]["reason"], "DeletionByPodGC");
  // Again: unchanged, so nothing is written twice.
  EXPECT_EQ(withDisruptionTarget(gc, "DeletionByPodGC", "PodGC: node no longer exists", true), gc);

  json evicted = withDisruptionTarget(running, "DeletionByTaintManager", "m", false);
  EXPECT_EQ(evicted["status"]["phase"], "Running") << "the kubelet still ends it";
  json succeeded = running;
  succeeded["status"]["phase"] = "Succeeded";
  EXPECT_EQ(withDisruptionTarget(succeeded, "DeletionByPodGC", "m", true)["status"]["phase"],
            "Succeeded");
}

}  // namespace pod_disruption_test
}  // namespace berth::controlplane::controllers
