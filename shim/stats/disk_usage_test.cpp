#include "shim/stats/disk_usage.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "shim/stats/test_util.h"

namespace berth::cri::stats {
namespace {

namespace fs = std::filesystem;

class DiskUsageTest : public testing::TempDirTest {
 protected:
  // What du counts for one path: allocated 512-byte blocks.
  uint64_t blocks(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return static_cast<uint64_t>(st.st_blocks) * 512;
  }
};

TEST_F(DiskUsageTest, CountsEveryInodeAndItsBlocks) {
  put("upper/a", std::string(100'000, 'x'));
  put("upper/dir/b", std::string(5'000, 'y'));
  put("upper/dir/deeper/c", "");
  auto u = diskUsage(dir_ / "upper");
  ASSERT_TRUE(u) << u.error().message();
  // upper, a, dir, b, deeper, c
  EXPECT_EQ(u->inodes, 6u);
  uint64_t want = 0;
  for (const char* p :
       {"upper", "upper/a", "upper/dir", "upper/dir/b", "upper/dir/deeper", "upper/dir/deeper/c"})
    want += blocks(dir_ / p);
  EXPECT_EQ(u->bytes, want);
  EXPECT_GE(u->bytes, 105'000u);
}

TEST_F(DiskUsageTest, HardLinksCountOnce) {
  put("upper/big", std::string(64'000, 'z'));
  auto before = diskUsage(dir_ / "upper");
  ASSERT_TRUE(before) << before.error().message();
  ASSERT_EQ(::link((dir_ / "upper/big").c_str(), (dir_ / "upper/again").c_str()), 0);
  auto after = diskUsage(dir_ / "upper");
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->inodes, before->inodes);
  EXPECT_EQ(after->bytes, before->bytes);
}

TEST_F(DiskUsageTest, SymlinksAreCountedNotFollowed) {
  put("elsewhere/huge", std::string(200'000, 'q'));
  put("upper/file", "1");
  fs::create_symlink(dir_ / "elsewhere", dir_ / "upper/link-to-dir");
  fs::create_symlink(dir_ / "elsewhere/huge", dir_ / "upper/link-to-file");
  auto u = diskUsage(dir_ / "upper");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->inodes, 4u);  // upper, file, two links
  EXPECT_LT(u->bytes, 200'000u);
}

TEST_F(DiskUsageTest, ASymlinkedRootIsRefused) {
  put("real/file", "1");
  fs::create_symlink(dir_ / "real", dir_ / "upper");
  auto u = diskUsage(dir_ / "upper");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("upper"), std::string::npos) << u.error().message();
}

TEST_F(DiskUsageTest, DepthCostsNoFileDescriptors) {
  // A container decides how deep its tree is: 100 levels under a limit of 16 open files.
  fs::path deep = dir_ / "upper";
  for (int i = 0; i < 100; ++i)
    deep /= "d";
  ASSERT_TRUE(makeDirs(deep));
  ASSERT_TRUE(writeFile(deep / "leaf", "x"));
  put("upper/sibling/file", "y");
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
  struct rlimit low = old;
  low.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto u = diskUsage(dir_ / "upper");
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->inodes, 1u + 100 + 1 + 2);  // upper, the chain, leaf, sibling and its file
}

TEST_F(DiskUsageTest, MissingDirIsNotFound) {
  auto u = diskUsage(dir_ / "nope");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code(), Code::kNotFound);
  EXPECT_NE(u.error().message().find("nope"), std::string::npos) << u.error().message();
}

TEST_F(DiskUsageTest, EmptyDirIsItself) {
  ASSERT_TRUE(makeDirs(dir_ / "upper"));
  auto u = diskUsage(dir_ / "upper");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->inodes, 1u);
  EXPECT_EQ(u->bytes, blocks(dir_ / "upper"));
}

}  // namespace
}  // namespace berth::cri::stats
