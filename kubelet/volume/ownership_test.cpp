#include "kubelet/volume/ownership.h"

#include <gtest/gtest.h>

namespace berth::kubelet::volume {
namespace {
using nlohmann::json;

TEST(FsUser, OnlyWhenEveryContainerRunsAsTheSameExplicitUser) {
  struct Case {
    const char* spec;
    std::optional<uid_t> want;
  } cases[] = {
      {R"({"containers": [{"name": "a"}]})", std::nullopt},
      {R"({"securityContext": {"runAsUser": 1000}, "containers": [{"name": "a"}, {"name": "b"}]})",
       1000},
      {R"({"securityContext": {"runAsUser": 1000},
           "containers": [{"name": "a", "securityContext": {"runAsUser": 2000}}]})",
       2000},
      {R"({"securityContext": {"runAsUser": 1000},
           "containers": [{"name": "a"}], "initContainers": [{"name": "i", "securityContext": {"runAsUser": 0}}]})",
       std::nullopt},
      {R"({"containers": [{"name": "a", "securityContext": {"runAsUser": 5}}, {"name": "b"}]})",
       std::nullopt},
  };
  for (const auto& c : cases)
    EXPECT_EQ(fsUserOf(json{{"spec", json::parse(c.spec)}}), c.want) << c.spec;
}

TEST(FsGroup, FromThePodSecurityContext) {
  EXPECT_EQ(fsGroupOf(json::parse(R"({"spec": {"securityContext": {"fsGroup": 2000}}})")), 2000u);
  EXPECT_EQ(fsGroupOf(json::parse(R"({"spec": {}})")), std::nullopt);
  EXPECT_EQ(fsGroupChangePolicyOf(json::parse(
                R"({"spec": {"securityContext": {"fsGroupChangePolicy": "OnRootMismatch"}}})")),
            FsGroupChangePolicy::kOnRootMismatch);
  EXPECT_EQ(fsGroupChangePolicyOf(json::parse(R"({"spec": {}})")), FsGroupChangePolicy::kAlways);
}

}  // namespace
}  // namespace berth::kubelet::volume
