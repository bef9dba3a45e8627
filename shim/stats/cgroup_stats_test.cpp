#include "shim/stats/cgroup_stats.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "shim/stats/test_util.h"

namespace berth::cri::stats {
namespace {

using runtime::CgroupManager;

constexpr int64_t kNow = 1'700'000'000'000'000'000;

// A hybrid host's layout as CgroupManager::forContainer gives it: one directory per v1
// hierarchy (cpu and cpuacct apart, as on the dev VMs) and one in the bare cgroup2.
class CgroupV1Stats : public testing::TempDirTest {
 protected:
  CgroupManager manager() {
    return CgroupManager::fromPaths(false, {{"cpu", (dir_ / "cpu/ctr").string()},
                                            {"cpuacct", (dir_ / "cpuacct/ctr").string()},
                                            {"memory", (dir_ / "memory/ctr").string()},
                                            {"pids", (dir_ / "pids/ctr").string()},
                                            {"unified", (dir_ / "unified/ctr").string()}});
  }
  void SetUp() override {
    TempDirTest::SetUp();
    put("cpu/ctr/cpu.shares", "1024\n");
    put("cpuacct/ctr/cpuacct.usage", "2500000000\n");
    put("cpuacct/ctr/cpuacct.stat", "user 150\nsystem 50\n");
    put("memory/ctr/memory.usage_in_bytes", "10485760\n");
    put("memory/ctr/memory.limit_in_bytes", "67108864\n");
    put("memory/ctr/memory.stat",
        "cache 4096\nrss 8192\ninactive_file 999\ntotal_cache 3145728\ntotal_rss 6291456\n"
        "total_inactive_file 2097152\ntotal_pgfault 1234\ntotal_pgmajfault 5\n");
    put("memory/ctr/memory.memsw.usage_in_bytes", "11534336\n");
    put("memory/ctr/memory.memsw.limit_in_bytes", "134217728\n");
    put("pids/ctr/cgroup.procs", "10\n11\n");
    put("pids/ctr/sub/cgroup.procs", "12\n");
    put("unified/ctr/cgroup.procs", "10\n11\n12\n");
  }
};

TEST_F(CgroupV1Stats, ReadsCpuacctMemoryAndProcesses) {
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->timestamp, kNow);
  EXPECT_EQ(s->cpu->usageCoreNanoSeconds, 2'500'000'000u);
  uint64_t tick = 1'000'000'000 / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  EXPECT_EQ(s->cpu->userNanoSeconds, 150 * tick);
  EXPECT_EQ(s->cpu->systemNanoSeconds, 50 * tick);
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->timestamp, kNow);
  EXPECT_EQ(s->memory->usageBytes, 10485760u);
  EXPECT_EQ(s->memory->workingSetBytes, 10485760u - 2097152u);  // hierarchical total_ values
  EXPECT_EQ(s->memory->availableBytes, 67108864u - (10485760u - 2097152u));
  EXPECT_EQ(s->memory->rssBytes, 6291456u);
  EXPECT_EQ(s->memory->pageFaults, 1234u);
  EXPECT_EQ(s->memory->majorPageFaults, 5u);
  ASSERT_TRUE(s->swap);
  EXPECT_EQ(s->swap->swapUsageBytes, 11534336u - 10485760u);
  EXPECT_EQ(s->swap->swapAvailableBytes, (134217728u - 67108864u) - (11534336u - 10485760u));
  EXPECT_EQ(s->processCount, 3u);  // sub-cgroups included
}

TEST_F(CgroupV1Stats, NoLimitMeansNoAvailableBytes) {
  // The kernel's "unlimited": LONG_MAX rounded down to a page.
  put("memory/ctr/memory.limit_in_bytes", "9223372036854771712\n");
  put("memory/ctr/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->availableBytes, 0u);
  EXPECT_EQ(s->memory->workingSetBytes, 10485760u - 2097152u);
  ASSERT_TRUE(s->swap);
  EXPECT_EQ(s->swap->swapAvailableBytes, 0u);
}

TEST_F(CgroupV1Stats, WorkingSetIsFlooredAtZero) {
  put("memory/ctr/memory.stat", "total_inactive_file 20971520\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->memory->workingSetBytes, 0u);
  EXPECT_EQ(s->memory->availableBytes, 67108864u);
}

TEST_F(CgroupV1Stats, MissingFilesLeaveTheirPartOut) {
  // No swap accounting (swapaccount=0), no memory.stat, no cpuacct.stat.
  ASSERT_TRUE(removeAll(dir_ / "memory/ctr/memory.memsw.usage_in_bytes"));
  ASSERT_TRUE(removeAll(dir_ / "memory/ctr/memory.stat"));
  ASSERT_TRUE(removeAll(dir_ / "cpuacct/ctr/cpuacct.stat"));
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->swap);
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->workingSetBytes, 10485760u);
  EXPECT_EQ(s->memory->rssBytes, 0u);
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->userNanoSeconds, 0u);
}

TEST_F(CgroupV1Stats, AHierarchyTheHostLacksIsLeftOut) {
  auto s = readCgroupStats(
      CgroupManager::fromPaths(false, {{"memory", (dir_ / "memory/ctr").string()}}), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->cpu);
  EXPECT_TRUE(s->memory);
}

TEST_F(CgroupV1Stats, CombinedCpuCpuacctHierarchy) {
  put("cpu,cpuacct/ctr/cpuacct.usage", "42\n");
  auto s = readCgroupStats(
      CgroupManager::fromPaths(false, {{"cpu,cpuacct", (dir_ / "cpu,cpuacct/ctr").string()}}),
      kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->usageCoreNanoSeconds, 42u);
}

TEST_F(CgroupV1Stats, AGoneCgroupIsNotFound) {
  ASSERT_TRUE(removeAll(dir_ / "cpuacct/ctr"));
  ASSERT_TRUE(removeAll(dir_ / "memory/ctr"));
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kNotFound);
  EXPECT_NE(s.error().message().find("/ctr does not exist"), std::string::npos)
      << s.error().message();
}

TEST_F(CgroupV1Stats, GarbageNamesTheFile) {
  put("memory/ctr/memory.usage_in_bytes", "lots\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kInternal);
  EXPECT_NE(s.error().message().find("memory.usage_in_bytes: \"lots\" is not a number"),
            std::string::npos)
      << s.error().message();
  put("memory/ctr/memory.usage_in_bytes", "1\n");
  put("memory/ctr/memory.stat", "total_rss\n");
  s = readCgroupStats(manager(), kNow);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("memory.stat: line \"total_rss\""), std::string::npos)
      << s.error().message();
}

class CgroupV2Stats : public testing::TempDirTest {
 protected:
  CgroupManager manager() {
    return CgroupManager::fromPaths(true, {{"", (dir_ / "kubepods/ctr").string()}});
  }
  void SetUp() override {
    TempDirTest::SetUp();
    put("kubepods/ctr/cpu.stat",
        "usage_usec 3000000\nuser_usec 2000000\nsystem_usec 1000000\nnr_periods 0\n"
        "nr_throttled 0\nthrottled_usec 0\n");
    put("kubepods/ctr/memory.current", "20971520\n");
    put("kubepods/ctr/memory.max", "33554432\n");
    put("kubepods/ctr/memory.stat",
        "anon 12582912\nfile 8388608\nactive_file 4194304\ninactive_file 4194304\n"
        "pgfault 777\npgmajfault 3\n");
    put("kubepods/ctr/memory.swap.current", "1048576\n");
    put("kubepods/ctr/memory.swap.max", "4194304\n");
    put("kubepods/ctr/cgroup.procs", "100\n");
  }
};

TEST_F(CgroupV2Stats, ReadsCpuStatMemoryAndSwap) {
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->usageCoreNanoSeconds, 3'000'000'000u);
  EXPECT_EQ(s->cpu->userNanoSeconds, 2'000'000'000u);
  EXPECT_EQ(s->cpu->systemNanoSeconds, 1'000'000'000u);
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->usageBytes, 20971520u);
  EXPECT_EQ(s->memory->workingSetBytes, 20971520u - 4194304u);
  EXPECT_EQ(s->memory->availableBytes, 33554432u - (20971520u - 4194304u));
  EXPECT_EQ(s->memory->rssBytes, 12582912u);  // anon, as cAdvisor
  EXPECT_EQ(s->memory->pageFaults, 777u);
  EXPECT_EQ(s->memory->majorPageFaults, 3u);
  ASSERT_TRUE(s->swap);
  EXPECT_EQ(s->swap->timestamp, kNow);
  EXPECT_EQ(s->swap->swapUsageBytes, 1048576u);
  EXPECT_EQ(s->swap->swapAvailableBytes, 4194304u - 1048576u);
  EXPECT_EQ(s->processCount, 1u);
}

TEST_F(CgroupV2Stats, MaxIsNoLimit) {
  put("kubepods/ctr/memory.max", "max\n");
  put("kubepods/ctr/memory.swap.max", "max\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->memory->availableBytes, 0u);
  EXPECT_EQ(s->swap->swapAvailableBytes, 0u);
}

TEST_F(CgroupV2Stats, NoMemoryControllerLeavesMemoryOut) {
  // A cgroup whose parent does not delegate memory has cpu.stat only.
  for (const char* f :
       {"memory.current", "memory.max", "memory.stat", "memory.swap.current", "memory.swap.max"})
    ASSERT_TRUE(removeAll(dir_ / "kubepods/ctr" / f));
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->cpu);
  EXPECT_FALSE(s->memory);
  EXPECT_FALSE(s->swap);
}

TEST_F(CgroupV2Stats, NoSwapFilesLeaveSwapOut) {
  ASSERT_TRUE(removeAll(dir_ / "kubepods/ctr/memory.swap.current"));
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->memory);
  EXPECT_FALSE(s->swap);
}

TEST_F(CgroupV2Stats, AGoneCgroupIsNotFound) {
  auto s = readCgroupStats(
      CgroupManager::fromPaths(true, {{"", (dir_ / "kubepods/gone").string()}}), kNow);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Code::kNotFound);
}

TEST_F(CgroupV2Stats, PressureFilesFillPsiAndIo) {
  put("kubepods/ctr/cpu.pressure",
      "some avg10=1.50 avg60=0.25 avg300=0.05 total=1234567\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=89\n");
  put("kubepods/ctr/memory.pressure",
      "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  put("kubepods/ctr/io.pressure",
      "some avg10=12.00 avg60=3.00 avg300=1.00 total=42\n"
      "full avg10=6.00 avg60=1.50 avg300=0.50 total=21\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu && s->cpu->psi && s->cpu->psi->some && s->cpu->psi->full);
  EXPECT_EQ(s->cpu->psi->some->totalNanoSeconds, 1'234'567'000u);  // the kernel counts µs
  EXPECT_DOUBLE_EQ(s->cpu->psi->some->avg10, 1.5);
  EXPECT_DOUBLE_EQ(s->cpu->psi->some->avg60, 0.25);
  EXPECT_DOUBLE_EQ(s->cpu->psi->some->avg300, 0.05);
  EXPECT_EQ(s->cpu->psi->full->totalNanoSeconds, 89'000u);
  ASSERT_TRUE(s->memory && s->memory->psi && s->memory->psi->some);
  EXPECT_EQ(s->memory->psi->some->totalNanoSeconds, 0u);
  ASSERT_TRUE(s->io && s->io->psi && s->io->psi->full);
  EXPECT_EQ(s->io->timestamp, kNow);
  EXPECT_DOUBLE_EQ(s->io->psi->full->avg10, 6.0);
  EXPECT_EQ(s->io->psi->some->totalNanoSeconds, 42'000u);
}

TEST_F(CgroupV2Stats, NoPressureFilesLeavePsiAndIoOut) {
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu && s->memory);
  EXPECT_FALSE(s->cpu->psi);
  EXPECT_FALSE(s->memory->psi);
  EXPECT_FALSE(s->io);
}

TEST_F(CgroupV1Stats, PressureComesFromTheBareCgroup2Directory) {
  // A hybrid host: the v1 hierarchies have no pressure files, the cgroup2 one does.
  put("unified/ctr/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n");
  put("unified/ctr/io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=9\n");
  auto s = readCgroupStats(manager(), kNow);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->cpu && s->cpu->psi && s->cpu->psi->some);
  EXPECT_EQ(s->cpu->psi->some->totalNanoSeconds, 7'000u);
  EXPECT_FALSE(s->cpu->psi->full);  // a kernel before 5.13 has no "full" line for cpu
  EXPECT_FALSE(s->memory->psi);     // no memory.pressure there
  ASSERT_TRUE(s->io && s->io->psi && s->io->psi->some);
  EXPECT_EQ(s->io->psi->some->totalNanoSeconds, 9'000u);
}

TEST(ParsePsi, MalformedLinesNameTheFile) {
  for (const char* bad :
       {"some avg10=x avg60=0 avg300=0 total=0\n", "some avg10=0.00 avg60=0.00 avg300=0.00\n",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=1 extra\n",
        "most avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"}) {
    auto r = parsePsi(bad, "/cg/cpu.pressure");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInternal);
    EXPECT_NE(r.error().message().find("/cg/cpu.pressure"), std::string::npos)
        << r.error().message();
  }
  auto empty = parsePsi("", "/cg/io.pressure");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->some);
  EXPECT_FALSE(empty->full);
}

TEST(PodCgroup, EmptyParentIsAnError) {
  auto cg = podCgroup("", CgroupDriver::kCgroupfs);
  ASSERT_FALSE(cg);
  EXPECT_NE(cg.error().message().find("cgroup_parent"), std::string::npos);
}

TEST(PodCgroup, SystemdParentMustBeASlice) {
  for (const char* parent : {"/kubepods/pod1", "kubepods", "a.slice:x:y"}) {
    auto cg = podCgroup(parent, CgroupDriver::kSystemd);
    ASSERT_FALSE(cg) << parent;
    EXPECT_EQ(cg.error().code(), Code::kInvalidArgument);
    EXPECT_NE(cg.error().message().find(
                  fmt::format("cgroup_parent \"{}\" is not a systemd slice", parent)),
              std::string::npos)
        << cg.error().message();
  }
}

TEST(PodCgroup, AbsoluteCgroupfsParentIsTakenFromEachHierarchyRoot) {
  auto cg = podCgroup("/kubepods/burstable/pod1", CgroupDriver::kCgroupfs);
  if (!cg && cg.error().code() == Code::kFailedPrecondition) GTEST_SKIP() << cg.error().message();
  ASSERT_TRUE(cg) << cg.error().message();
  ASSERT_FALSE(cg->paths().empty());
  for (const auto& [name, dir] : cg->paths())
    EXPECT_TRUE(dir.ends_with("/kubepods/burstable/pod1")) << name << " " << dir;
}

}  // namespace
}  // namespace berth::cri::stats
