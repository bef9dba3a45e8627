#include "shim/stats/stats_collector.h"

#include <map>

#include <gtest/gtest.h>

#include "shim/stats/test_util.h"

namespace berth::cri::stats {
namespace {

using runtime::CgroupManager;
using testing::kSecond;

// cgroupsPath / cgroup_parent → a v2 directory under the test's temp dir.
class FakeResolver final : public CgroupResolver {
 public:
  explicit FakeResolver(std::filesystem::path root) : root_(std::move(root)) {}
  Result<CgroupManager> container(const std::string& cgroupsPath, const std::string&) override {
    return CgroupManager::fromPaths(true, {{"", (root_ / cgroupsPath).string()}});
  }
  Result<CgroupManager> pod(const std::string& cgroupParent) override {
    if (cgroupParent == "bad") return fail(Code::kInvalidArgument, "bad parent");
    return CgroupManager::fromPaths(true, {{"", (root_ / cgroupParent).string()}});
  }

 private:
  std::filesystem::path root_;
};

class StatsCollectorTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    cpu("pod1", 10);
    put("pod1/memory.current", "3000\n");
    put("pod1/memory.stat", "inactive_file 1000\n");
    put("pod1/cgroup.procs", "");
    cpu("pod1/c1", 4);
    put("pod1/c1/memory.current", "2000\n");
    put("pod1/c1/cgroup.procs", "7\n8\n");
    put("layers/c1/file", std::string(10'000, 'x'));
    collector_ = std::make_unique<StatsCollector>(std::make_unique<FakeResolver>(dir_),
                                                  [this] { return now_; });
  }
  void cpu(const std::string& dir, uint64_t seconds) {
    put(dir + "/cpu.stat", fmt::format("usage_usec {}\n", seconds * 1'000'000));
  }
  ContainerStatsInput c1() {
    return {"c1", "pod1/c1", (dir_ / "layers/c1").string(), "/var/lib/berth/images"};
  }

  int64_t now_ = 1000 * kSecond;
  std::unique_ptr<StatsCollector> collector_;
};

TEST_F(StatsCollectorTest, ContainerStatsWithRateAndWritableLayer) {
  auto s = collector_->containerStats(c1());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->id, "c1");
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->timestamp, now_);
  EXPECT_EQ(s->cpu->usageCoreNanoSeconds, 4 * static_cast<uint64_t>(kSecond));
  EXPECT_EQ(s->cpu->usageNanoCores, 0u);  // first sample
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->usageBytes, 2000u);
  EXPECT_FALSE(s->swap);
  EXPECT_EQ(s->processCount, 2u);
  EXPECT_EQ(s->writableLayer.mountpoint, "/var/lib/berth/images");
  EXPECT_EQ(s->writableLayer.inodesUsed, 2u);
  EXPECT_GE(s->writableLayer.usedBytes, 10'000u);
  EXPECT_EQ(s->writableLayer.timestamp, now_);

  now_ += 4 * kSecond;
  cpu("pod1/c1", 6);  // 2 s of CPU in 4 s
  s = collector_->containerStats(c1());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->cpu->usageNanoCores, 500'000'000u);
}

TEST_F(StatsCollectorTest, WritableLayerIsRemeasuredAfterItsMaxAge) {
  auto first = collector_->containerStats(c1());
  ASSERT_TRUE(first) << first.error().message();
  put("layers/c1/more", std::string(50'000, 'y'));
  now_ += 5 * kSecond;
  auto cached = collector_->containerStats(c1());
  ASSERT_TRUE(cached) << cached.error().message();
  EXPECT_EQ(cached->writableLayer.inodesUsed, 2u);
  EXPECT_EQ(cached->writableLayer.timestamp, first->writableLayer.timestamp);
  now_ += 6 * kSecond;
  auto fresh = collector_->containerStats(c1());
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_EQ(fresh->writableLayer.inodesUsed, 3u);
  EXPECT_EQ(fresh->writableLayer.timestamp, now_);
  // forget drops the cache with the rate sample.
  put("layers/c1/even-more", "z");
  collector_->forget("c1");
  auto after = collector_->containerStats(c1());
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->writableLayer.inodesUsed, 4u);
  EXPECT_EQ(after->cpu->usageNanoCores, 0u);
}

TEST_F(StatsCollectorTest, ContainerWithoutCgroupOrUpperDir) {
  // Created but not started: no cgroup yet, and no upper dir is zero usage.
  auto s = collector_->containerStats({"c2", "pod1/c2", (dir_ / "layers/c2").string(), "/img"});
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->cpu);
  EXPECT_FALSE(s->memory);
  EXPECT_EQ(s->processCount, 0u);
  EXPECT_EQ(s->writableLayer.usedBytes, 0u);
  EXPECT_EQ(s->writableLayer.inodesUsed, 0u);
}

TEST_F(StatsCollectorTest, PodStatsSumsContainersAndKeepsItsOwnRate) {
  PodStatsInput pod{"pod1", "pod1", "", {c1()}};
  auto s = collector_->podStats(pod);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->id, "pod1");
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->usageCoreNanoSeconds, 10 * static_cast<uint64_t>(kSecond));
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->workingSetBytes, 2000u);
  EXPECT_FALSE(s->network);  // host network: no netns path
  EXPECT_EQ(s->process.processCount, 2u);
  EXPECT_EQ(s->process.timestamp, now_);
  ASSERT_EQ(s->containers.size(), 1u);
  EXPECT_EQ(s->containers[0].id, "c1");

  now_ += 2 * kSecond;
  cpu("pod1", 12);
  cpu("pod1/c1", 5);
  s = collector_->podStats(pod);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->cpu->usageNanoCores, 1'000'000'000u);
  EXPECT_EQ(s->containers[0].cpu->usageNanoCores, 500'000'000u);
}

TEST_F(StatsCollectorTest, PodWithoutCgroupParentHasNoCpuOrMemory) {
  auto s = collector_->podStats({"pod1", "", "", {}});
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_FALSE(s->cpu);
  EXPECT_FALSE(s->memory);
}

TEST_F(StatsCollectorTest, ErrorsNameThePod) {
  auto s = collector_->podStats({"pod9", "bad", "", {}});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("pod pod9 cgroup bad: bad parent"), std::string::npos)
      << s.error().message();
  s = collector_->podStats({"pod9", "", "/nonexistent/netns", {}});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("pod pod9"), std::string::npos) << s.error().message();
  EXPECT_NE(s.error().message().find("/nonexistent/netns"), std::string::npos)
      << s.error().message();
}

}  // namespace
}  // namespace berth::cri::stats
