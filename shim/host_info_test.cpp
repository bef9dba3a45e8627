#include "shim/host_info.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::cri {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMountInfo =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "23 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs udev rw\n"
    "30 22 0:40 / /mnt/private rw,relatime - tmpfs tmpfs rw\n"
    "31 22 0:41 / /mnt/slave rw,relatime master:7 - tmpfs tmpfs rw\n"
    "32 22 0:42 / /mnt/with\\040space rw,relatime shared:9 master:3 - tmpfs tmpfs rw\n"
    "33 30 0:43 / /mnt/private/inner rw shared:12 - tmpfs tmpfs rw\n";

TEST(MountInfo, ParsesOptionalFieldsAndEscapes) {
  auto mounts = parseMountInfo(kMountInfo);
  ASSERT_TRUE(mounts) << mounts.error().message();
  ASSERT_EQ(mounts->size(), 6u);
  EXPECT_EQ((*mounts)[0].optional, "shared:1");
  EXPECT_EQ((*mounts)[2].optional, "");
  EXPECT_EQ((*mounts)[4].mountPoint, "/mnt/with space");
  EXPECT_EQ((*mounts)[4].optional, "shared:9 master:3");
}

TEST(MountInfo, MalformedLineIsAnError) {
  auto r = parseMountInfo("22 1 8:1 / / rw shared:1 ext4\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("line 1"), std::string::npos);
}

TEST(MountInfo, LookupTakesTheLongestPrefix) {
  auto mounts = *parseMountInfo(kMountInfo);
  struct Case {
    const char* path;
    const char* mountPoint;
    bool shared;
    bool sharedOrSlave;
  } cases[] = {
      {"/var/lib/x", "/", true, true},
      {"/mnt/private", "/mnt/private", false, false},
      {"/mnt/private/a/b", "/mnt/private", false, false},
      {"/mnt/privateX", "/", true, true},  // a name prefix is not a path prefix
      {"/mnt/private/inner/x", "/mnt/private/inner", true, true},
      {"/mnt/slave/data", "/mnt/slave", false, true},
      {"/mnt/with space/d", "/mnt/with space", true, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    const MountInfo* m = lookupMount(mounts, c.path);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->mountPoint, c.mountPoint);
    EXPECT_EQ(isSharedMount(*m), c.shared);
    EXPECT_EQ(isSharedOrSlaveMount(*m), c.sharedOrSlave);
  }
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-host-info-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = fs::canonical(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TempDir, ResolveHostPathFollowsSymlinksAndKeepsMissingTail) {
  fs::create_directories(dir_ / "real/sub");
  fs::create_symlink(dir_ / "real", dir_ / "link");
  auto r = resolveHostPath(dir_ / "link/sub");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->exists);
  EXPECT_EQ(r->resolved, (dir_ / "real/sub").string());
  r = resolveHostPath(dir_ / "link/new/deeper");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->exists);
  EXPECT_EQ(r->resolved, (dir_ / "real/new/deeper").string());
}

TEST(ResolveHostPath, RelativeIsAnError) {
  auto r = resolveHostPath("relative/path");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("must be absolute"), std::string::npos);
}

TEST(Devices, DevNullFromTheHost) {
  auto d = devicesFromPath("/dev/null", "/dev/mynull");
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].type, "c");
  EXPECT_EQ((*d)[0].path, "/dev/mynull");
  EXPECT_EQ((*d)[0].major, 1);
  EXPECT_EQ((*d)[0].minor, 3);
  EXPECT_EQ((*d)[0].fileMode, 0666u);
}

TEST_F(TempDir, RegularFileIsNotADevice) {
  std::ofstream(dir_ / "file") << "x";
  auto d = devicesFromPath((dir_ / "file").string(), "/dev/x");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("not a device node"), std::string::npos);
  d = devicesFromPath((dir_ / "missing").string(), "/dev/x");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message().find("missing"), std::string::npos);
}

TEST_F(TempDir, DirectoryOfDevicesIsWalked) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod needs root";
  fs::create_directories(dir_ / "dev/snd");
  ASSERT_EQ(::mknod((dir_ / "dev/snd/pcm").c_str(), S_IFCHR | 0660, makedev(116, 2)), 0);
  ASSERT_EQ(::mknod((dir_ / "dev/loopx").c_str(), S_IFBLK | 0600, makedev(7, 9)), 0);
  std::ofstream(dir_ / "dev/notadev") << "x";
  fs::create_directories(dir_ / "dev/pts");
  ASSERT_EQ(::mknod((dir_ / "dev/pts/0").c_str(), S_IFCHR | 0620, makedev(136, 0)), 0);
  auto d = devicesFromPath((dir_ / "dev").string(), "/dev");
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_EQ(d->size(), 2u);  // pts skipped, the regular file ignored
  EXPECT_EQ((*d)[0].path, "/dev/loopx");
  EXPECT_EQ((*d)[0].type, "b");
  EXPECT_EQ((*d)[1].path, "/dev/snd/pcm");
  EXPECT_EQ((*d)[1].major, 116);
}

TEST_F(TempDir, AppArmorProfileList) {
  std::ofstream(dir_ / "profiles") << "berth-default (enforce)\nmy-prof (complain)\n";
  EXPECT_TRUE(*appArmorProfileLoaded(dir_ / "profiles", "my-prof"));
  EXPECT_FALSE(*appArmorProfileLoaded(dir_ / "profiles", "my"));
  EXPECT_FALSE(appArmorProfileLoaded(dir_ / "none", "x"));
}

TEST(Capabilities, KnownNamesAndBoundingSet) {
  EXPECT_TRUE(isKnownCapability("CAP_SYS_ADMIN"));
  EXPECT_FALSE(isKnownCapability("CAP_MAKE_COFFEE"));
  auto caps = currentCapabilities();
  ASSERT_TRUE(caps) << caps.error().message();
  ASSERT_FALSE(caps->empty());
  for (const auto& c : *caps)
    EXPECT_TRUE(c.starts_with("CAP_")) << c;
}

TEST(HostFacts, DetectedFromThisHost) {
  auto f = detectHostFacts(CgroupDriver::kSystemd);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->cgroupDriver, CgroupDriver::kSystemd);
  std::ifstream adj("/proc/self/oom_score_adj");
  int want = 0;
  adj >> want;
  EXPECT_EQ(f->minOomScoreAdj, want);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(f->nodeHostname, host);
  EXPECT_FALSE(f->allCapabilities.empty());
  EXPECT_EQ(f->cgroupV2Unified, fs::exists("/sys/fs/cgroup/cgroup.controllers"));
  EXPECT_FALSE(f->defaultSeccomp);
}

}  // namespace
}  // namespace berth::cri
