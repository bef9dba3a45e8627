#include "runtime/cgroup_resources.h"

#include <gtest/gtest.h>

#include "runtime/device_filter.h"

namespace berth::runtime {
namespace {

std::vector<std::string> render(const std::vector<CgroupWrite>& writes) {
  std::vector<std::string> out;
  for (const auto& w : writes)
    out.push_back(w.file + "=" + w.value);
  return out;
}

ocispec::Resources sample() {
  ocispec::Resources r;
  r.memory.emplace();
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.cpu.emplace();
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  r.pids = ocispec::Pids{100};
  r.hugepageLimits.push_back({"2MB", 1 << 21});
  return r;
}

TEST(CgroupResources, V1Files) {
  auto w = planResourcesV1(sample());
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(render(*w), (std::vector<std::string>{
                            "memory.memsw.limit_in_bytes=134217728",
                            "memory.limit_in_bytes=67108864",
                            "memory.memsw.limit_in_bytes=134217728",
                            "memory.soft_limit_in_bytes=33554432",
                            "cpu.shares=1024",
                            "cpu.cfs_period_us=100000",
                            "cpu.cfs_quota_us=50000",
                            "cpu.cfs_period_us=100000",
                            "cpuset.cpus=0",
                            "pids.max=100",
                            "hugetlb.2MB.limit_in_bytes=2097152",
                        }));
  EXPECT_TRUE((*w)[0].mayFail);  // the ordering attempt
  EXPECT_FALSE((*w)[2].mayFail);
  EXPECT_EQ((*w)[1].field, "linux.resources.memory.limit");
}

TEST(CgroupResources, V2FilesWithRuncConversions) {
  auto w = planResourcesV2(sample());
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(render(*w), (std::vector<std::string>{
                            "memory.swap.max=67108864",
                            "memory.max=67108864",
                            "memory.low=33554432",
                            "cpu.weight=39",
                            "cpu.max=50000 100000",
                            "cpuset.cpus=0",
                            "pids.max=100",
                            "hugetlb.2MB.max=2097152",
                        }));
}

TEST(CgroupResources, Conversions) {
  EXPECT_EQ(cpuSharesToWeight(2), 1u);
  EXPECT_EQ(cpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(cpuSharesToWeight(1024), 39u);
  EXPECT_EQ(blkioWeightToIoWeight(10), 1);
  EXPECT_EQ(blkioWeightToIoWeight(1000), 10000);
  EXPECT_EQ(swapToV2(-1, 100).value(), "max");
  EXPECT_EQ(swapToV2(100, 100).value(), "0");
  EXPECT_FALSE(swapToV2(50, 100));
  EXPECT_EQ(deviceRuleString({false, std::nullopt, std::nullopt, std::nullopt, "rwm"}),
            "a *:* rwm");
  EXPECT_EQ(deviceRuleString({true, "c", 1, 3, "rw"}), "c 1:3 rw");
  EXPECT_EQ(deviceRuleString({true, "c", 136, std::nullopt, std::nullopt}), "c 136:* rwm");
}

TEST(CgroupResources, ErrorsNameTheField) {
  struct Case {
    ocispec::Resources r;
    bool v2;
    std::string message;
  };
  std::vector<Case> cases;
  {
    ocispec::Resources r;
    r.hugepageLimits.push_back({"3XB", 1});
    cases.push_back(
        {r, false, "linux.resources.hugepageLimits[0].pageSize: unknown hugepage size"});
  }
  {
    ocispec::Resources r;
    r.memory.emplace();
    r.memory->swappiness = 101;
    cases.push_back({r, false, "linux.resources.memory.swappiness: 101 is above 100"});
  }
  {
    ocispec::Resources r;
    r.unified["memory.max"] = "1";
    cases.push_back({r, false, "linux.resources.unified: needs a cgroup v2 host"});
  }
  {
    ocispec::Resources r;
    r.memory.emplace();
    r.memory->limit = 100;
    r.memory->swap = 50;
    cases.push_back({r, true, "linux.resources.memory.swap: memory.swap: 50 is less than"});
  }
  {
    ocispec::Resources r;
    r.unified["../escape"] = "1";
    cases.push_back({r, true, "linux.resources.unified.../escape: not a cgroup file name"});
  }
  {
    ocispec::Resources r;
    r.cpu.emplace();
    r.cpu->realtimeRuntime = 1;
    cases.push_back({r, true, "linux.resources.cpu.realtimeRuntime: not supported on cgroup v2"});
  }
  for (const auto& c : cases) {
    auto w = c.v2 ? planResourcesV2(c.r) : planResourcesV1(c.r);
    ASSERT_FALSE(w) << c.message;
    EXPECT_EQ(w.error().message().rfind(c.message, 0), 0u) << w.error().message();
  }
}

TEST(CgroupResources, DeviceRulesKeepDefaultsAllowed) {
  ocispec::Spec spec;
  spec.linux.emplace();
  spec.linux->resources.emplace();
  spec.linux->resources->devices.push_back(
      {false, std::nullopt, std::nullopt, std::nullopt, "rwm"});
  spec.linux->devices.push_back({"c", "/dev/fuse", 10, 229});
  auto rules = effectiveDeviceRules(spec);
  auto v1 = planDevicesV1(rules);
  ASSERT_GE(v1.size(), 3u);
  EXPECT_EQ(v1[0].file + " " + v1[0].value, "devices.deny a *:* rwm");
  EXPECT_EQ(v1.back().file + " " + v1.back().value, "devices.allow c 10:200 rwm");  // tun
}

TEST(DeviceFilter, CompilesAndRejectsBadRules) {
  std::vector<ocispec::DeviceCgroup> rules = {{false, "a", std::nullopt, std::nullopt, "rwm"},
                                              {true, "c", 1, 3, "rw"}};
  auto p = compileDeviceFilter(rules);
  ASSERT_TRUE(p);
  // Prologue (6), one rule (type, access x3, major, minor, mov, exit), default (2).
  EXPECT_EQ(p->size(), 6u + 8u + 2u);
  EXPECT_EQ(p->back().code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ((*p)[p->size() - 2].imm, 0);  // default deny after "a *:* rwm" deny
  auto bad = compileDeviceFilter({{true, "x", 1, 1, "rwm"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "linux.resources.devices[0].type: invalid \"x\"");
  EXPECT_EQ(deviceRuleString({false, "c", 1, 11, "rwa"}), "c 1:11 rw");
}

}  // namespace
}  // namespace berth::runtime
