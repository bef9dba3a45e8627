// A pod's summed resources and the limits of its cgroup, as the upstream kubelet computes them
// (resourcehelper.PodRequests/PodLimits, ResourceConfigForPod).
#include <gtest/gtest.h>

#include "kubelet/pod_cgroups.h"
#include "kubelet/pod_resources.h"

namespace berth::kubelet {
namespace pod_resources_test {

using nlohmann::json;

json container(const char* name, json requests, json limits = nullptr) {
  json c = {{"name", name}, {"image", "i"}, {"resources", json::object()}};
  if (!requests.is_null()) c["resources"]["requests"] = requests;
  if (!limits.is_null()) c["resources"]["limits"] = limits;
  return c;
}

TEST(PodResources, AppContainersAndSidecarsAddUpAndInitContainersPeakAlone) {
  json spec = {{"initContainers",
                {container("sidecar", {{"cpu", "100m"}, {"memory", "64Mi"}}),
                 container("migrate", {{"cpu", "2"}, {"memory", "32Mi"}}),
                 container("sidecar2", nullptr, {{"cpu", "50m"}, {"memory", "16Mi"}})}},
               {"containers",
                {container("app", {{"cpu", "250m"}, {"memory", "128Mi"}}),
                 container("web", {{"cpu", "250m"}})}},
               {"overhead", {{"cpu", "10m"}}}};
  spec["initContainers"][0]["restartPolicy"] = "Always";
  spec["initContainers"][2]["restartPolicy"] = "Always";
  auto t = podResourceTotals(spec);
  ASSERT_TRUE(t) << t.error().message();
  // cpu: app 500m + sidecars 150m = 650m, but the migration step needs 2 + 100m (the sidecar
  // started before it) = 2100m; plus the overhead.
  EXPECT_EQ(t->cpuRequestMilli, 2110);
  // memory: 128Mi + 64Mi + 16Mi (a limit without a request asks for the limit) beats 32Mi+64Mi.
  EXPECT_EQ(t->memoryRequest, (128 + 64 + 16) * 1024 * 1024);
  EXPECT_FALSE(t->cpuLimitsDeclared);
  EXPECT_FALSE(t->memoryLimitsDeclared);
}

TEST(PodResources, LimitsDeclaredOnlyWhenEveryContainerHasOne) {
  json spec = {{"containers",
                {container("a", nullptr, {{"cpu", "1"}, {"memory", "1Gi"}}),
                 container("b", {{"cpu", "100m"}}, {{"cpu", "500m"}})}}};
  auto t = podResourceTotals(spec);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->cpuLimitsDeclared);
  EXPECT_FALSE(t->memoryLimitsDeclared);
  EXPECT_EQ(t->cpuLimitMilli, 1500);

  spec["containers"][1]["resources"]["limits"]["cpu"] = "lots";
  auto bad = podResourceTotals(spec);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("container b: resources.limits.cpu"), std::string::npos)
      << bad.error().message();
}

TEST(PodResources, CfsConversions) {
  EXPECT_EQ(milliCpuToShares(0), 2);
  EXPECT_EQ(milliCpuToShares(1), 2);
  EXPECT_EQ(milliCpuToShares(250), 256);
  EXPECT_EQ(milliCpuToShares(1000000), 262144);
  EXPECT_EQ(milliCpuToQuota(0, 100000), 0);
  EXPECT_EQ(milliCpuToQuota(5, 100000), 1000);  // at least 1 ms
  EXPECT_EQ(milliCpuToQuota(1500, 100000), 150000);
  EXPECT_EQ(hugepagePageSize("hugepages-2Mi"), "2MB");
  EXPECT_EQ(hugepagePageSize("hugepages-1Gi"), "1GB");
}

json pod(json containers) {
  return {{"metadata", {{"uid", "u-1"}}}, {"spec", {{"containers", std::move(containers)}}}};
}

TEST(PodCgroupResources, ByQosClass) {
  PodCgroupOptions options;
  auto bestEffort = podCgroupResources(pod({container("a", nullptr)}), options);
  ASSERT_TRUE(bestEffort);
  EXPECT_EQ(bestEffort->cpu->shares, 2u);
  EXPECT_FALSE(bestEffort->cpu->quota);
  EXPECT_FALSE(bestEffort->memory);

  json guaranteedPod = pod({container("a", nullptr, {{"cpu", "500m"}, {"memory", "64Mi"}}),
                            container("b", nullptr, {{"cpu", "250m"}, {"memory", "32Mi"}})});
  auto guaranteed = podCgroupResources(guaranteedPod, options);
  ASSERT_TRUE(guaranteed);
  EXPECT_EQ(guaranteed->cpu->shares, 768u);
  EXPECT_EQ(guaranteed->cpu->quota, 75000);
  EXPECT_EQ(guaranteed->cpu->period, 100000u);
  EXPECT_EQ(guaranteed->memory->limit, 96 * 1024 * 1024);

  // Burstable: a quota only when every container limits cpu, a memory limit only when every
  // container limits memory.
  auto burstable =
      podCgroupResources(pod({container("a", {{"cpu", "100m"}}, {{"cpu", "200m"}}),
                              container("b", {{"memory", "10Mi"}}, {{"cpu", "100m"}})}),
                         options);
  ASSERT_TRUE(burstable);
  EXPECT_EQ(burstable->cpu->shares, 204u);  // b requests its cpu limit
  EXPECT_EQ(burstable->cpu->quota, 30000);
  EXPECT_FALSE(burstable->memory);

  options.cpuCfsQuota = false;
  options.podPidsLimit = 1024;
  auto noQuota = podCgroupResources(guaranteedPod, options);
  ASSERT_TRUE(noQuota);
  EXPECT_EQ(noQuota->cpu->quota, -1);
  ASSERT_TRUE(noQuota->pids);
  EXPECT_EQ(noQuota->pids->limit, 1024);
}

TEST(PodCgroupPaths, CgroupfsAndSystemd) {
  PodCgroups absolute({.cgroupRoot = "/"});
  EXPECT_EQ(absolute.cgroupfsPath("Guaranteed", "u"), "/kubepods/podu");
  EXPECT_EQ(absolute.cgroupfsPath("Burstable", "u"), "/kubepods/burstable/podu");
  EXPECT_EQ(absolute.cgroupfsPath("BestEffort", ""), "/kubepods/besteffort");
  PodCgroups relative({.cgroupRoot = "test/"});
  EXPECT_EQ(relative.cgroupfsPath("BestEffort", "u"), "test/kubepods/besteffort/podu");
  EXPECT_EQ(PodCgroups::systemdPath("Burstable", "a-b"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda_b.slice");
  EXPECT_EQ(PodCgroups::systemdPath("Guaranteed", "a"), "/kubepods.slice/kubepods-poda.slice");
}

}  // namespace pod_resources_test
}  // namespace berth::kubelet
