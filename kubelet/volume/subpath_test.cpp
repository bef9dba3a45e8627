#include "kubelet/volume/subpath.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::kubelet::volume {
namespace {
namespace fs = std::filesystem;

class SubPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(makeDirs(vol() / "data/logs"));
    ASSERT_TRUE(writeFile(vol() / "data/app.conf", "conf"));
    ASSERT_TRUE(writeFile(tmp_.path() / "outside-secret", "host"));
    ::chmod(vol().c_str(), 0750);
    fs::create_symlink("data", vol() / "inside-link");
    fs::create_symlink("/etc", vol() / "abs-link");
    fs::create_symlink("../outside-secret", vol() / "rel-escape");
    fs::create_symlink("../../..", vol() / "data/up");
  }
  fs::path vol() const { return tmp_.path() / "volume"; }

  // The path an opened fd stands for.
  static std::string where(const UniqueFd& fd) {
    return fs::read_symlink(fmt::format("/proc/self/fd/{}", fd.get())).string();
  }

  berth::testing::TempDir tmp_{"berth-subpath"};
};

TEST_F(SubPathTest, OpensPathsInsideTheVolume) {
  for (const char* sub : {"data", "data/logs", "data/app.conf", "inside-link/logs", "./data"}) {
    auto fd = openSubPath(vol(), sub);
    ASSERT_TRUE(fd) << sub << ": " << fd.error().message();
    EXPECT_TRUE(where(*fd).starts_with(vol().string() + "/data")) << sub << " -> " << where(*fd);
  }
}

TEST_F(SubPathTest, CreatesMissingDirectoriesWithTheVolumeRootMode) {
  auto fd = openSubPath(vol(), "new/deeper");
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_EQ(where(*fd), (vol() / "new/deeper").string());
  struct stat st {};
  ASSERT_EQ(::stat((vol() / "new/deeper").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777 & ~0022u, 0750u & ~0022u);
}

TEST_F(SubPathTest, RejectsEveryWayOut) {
  struct Case {
    const char* subPath;
    const char* error;
  } cases[] = {
      {"abs-link", "subPath \"abs-link\" leads out of the volume"},
      {"abs-link/passwd", "subPath \"abs-link/passwd\" leads out of the volume"},
      {"rel-escape", "subPath \"rel-escape\" leads out of the volume"},
      {"data/up/etc", "subPath \"data/up/etc\" leads out of the volume"},
      {"../outside-secret", "subPath \"../outside-secret\": must not contain '..'"},
      {"/etc", "subPath \"/etc\": must be a relative path"},
  };
  for (const auto& c : cases) {
    auto fd = openSubPath(vol(), c.subPath);
    ASSERT_FALSE(fd) << c.subPath << " opened " << where(*fd);
    EXPECT_TRUE(fd.error().message().starts_with(c.error)) << fd.error().message();
  }
  // Nothing was created on the way out.
  EXPECT_FALSE(fs::exists(tmp_.path() / "etc"));
}

}  // namespace
}  // namespace berth::kubelet::volume
