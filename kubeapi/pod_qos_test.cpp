#include "kubeapi/pod_qos.h"

#include <gtest/gtest.h>

namespace berth::kubeapi {
namespace {

using Json = nlohmann::json;

Json container(Json requests, Json limits) {
  return {{"name", "c"}, {"resources", {{"requests", requests}, {"limits", limits}}}};
}

TEST(PodQos, ClassesAsUpstreamComputesThem) {
  const Json none = Json::object();
  struct Case {
    const char* name;
    Json spec;
    const char* want;
  } cases[] = {
      {"nothing", {{"containers", {container(none, none)}}}, "BestEffort"},
      {"zero quantities count as unset",
       {{"containers", {container({{"cpu", "0"}}, {{"memory", "0"}})}}},
       "BestEffort"},
      {"equal limits and requests",
       {{"containers",
         {container({{"cpu", "1"}, {"memory", "1Gi"}}, {{"cpu", "1000m"}, {"memory", "1024Mi"}})}}},
       "Guaranteed"},
      {"limits only",
       {{"containers", {container(none, {{"cpu", "1"}, {"memory", "1Gi"}})}}},
       "Guaranteed"},
      {"memory limit missing", {{"containers", {container(none, {{"cpu", "1"}})}}}, "Burstable"},
      {"request below limit",
       {{"containers", {container({{"cpu", "500m"}}, {{"cpu", "1"}, {"memory", "1Gi"}})}}},
       "Burstable"},
      {"an init container without limits",
       {{"containers", {container(none, {{"cpu", "1"}, {"memory", "1Gi"}})}},
        {"initContainers", {container({{"cpu", "100m"}}, none)}}},
       "Burstable"},
      {"other resources do not count",
       {{"containers", {container({{"nvidia.com/gpu", "1"}}, {{"nvidia.com/gpu", "1"}})}}},
       "BestEffort"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(podQosClass(c.spec), c.want) << c.name;
}

}  // namespace
}  // namespace berth::kubeapi
