// Container filesystems from unpacked layers, mounted for real (root): whiteouts and opaque
// directories give the right merged view, writes land in the upper dir, read-only views refuse
// writes, many layers still mount (fsconfig lowerdir+ and the option-string fallback), and
// removal leaves no mount and no directory.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "images/container_mounts.h"
#include "images/digest.h"
#include "images/paths.h"
#include "images/snapshotter.h"
#include "images/tar_builder_for_test.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::TarBuilder;
using testing::TempDir;

bool isMountPoint(const std::filesystem::path& p) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // Field 5 is the mount point.
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 5 && fields >> f; ++i) {
    }
    if (f == p.string()) return true;
  }
  return false;
}

std::vector<std::string> listDir(const std::filesystem::path& p) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(p))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class ImagesOverlayTest : public ::testing::TestWithParam<OverlayApi> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: mknod, trusted xattrs, overlay mounts";
    snapshots_.emplace(*Snapshotter::open(dir_.path()));
    mounts_.emplace(*ContainerMounts::open(dir_.path()));
  }
  void TearDown() override {
    if (!mounts_) return;
    auto all = mounts_->list();
    ASSERT_TRUE(all);
    for (const auto& m : *all)
      EXPECT_TRUE(mounts_->remove(m.id));
  }

  // Unpacks the layers in order and returns their chain ids.
  std::vector<std::string> unpack(const std::vector<std::string>& tars) {
    std::vector<std::string> chains;
    std::string parent;
    for (size_t i = 0; i < tars.size(); ++i) {
      auto path = dir_.path() / fmt::format("layer-{}", i);
      EXPECT_TRUE(writeFile(path, tars[i]));
      auto fd = openFd(path, O_RDONLY | O_CLOEXEC);
      std::string diff = sha256Of(tars[i]);
      std::string chain = chainId(parent, diff);
      auto st = snapshots_->unpack({chain, diff, parent}, fd->get(), {});
      EXPECT_TRUE(st) << st.error().message();
      chains.push_back(chain);
      parent = chain;
    }
    return chains;
  }

  TempDir dir_;
  std::optional<Snapshotter> snapshots_;
  std::optional<ContainerMounts> mounts_;
};

TEST_P(ImagesOverlayTest, WhiteoutsAndOpaqueDirsGiveTheRightView) {
  auto chains = unpack({
      TarBuilder()
          .dir("etc/")
          .file("etc/hosts", "127.0.0.1 localhost\n")
          .file("etc/passwd", "root:x:0:0\n")
          .dir("var/cache/")
          .file("var/cache/a", "a")
          .file("var/cache/b", "b")
          .dir("keep/")
          .file("keep/x", "x")
          .finish(),
      TarBuilder()
          .dir("etc/")
          .empty("etc/.wh.hosts")
          .dir("var/cache/")
          .empty("var/cache/.wh..wh..opq")
          .file("var/cache/c", "c")
          .dir("keep/")
          .file("keep/y", "y")
          .finish(),
      TarBuilder().file("top", "t").finish(),
  });
  auto m = mounts_->mount("ctr-view", chains, {.api = GetParam()});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(isMountPoint(m->merged));
  EXPECT_EQ(listDir(m->merged / "etc"), std::vector<std::string>{"passwd"});
  EXPECT_EQ(listDir(m->merged / "var/cache"), std::vector<std::string>{"c"});
  EXPECT_EQ(listDir(m->merged / "keep"), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(*readFile(m->merged / "top"), "t");

  // Writes go to the container's upper dir; the snapshots stay as they were.
  ASSERT_TRUE(writeFile(m->merged / "keep/x", "changed"));
  ASSERT_EQ(::unlink((m->merged / "etc/passwd").c_str()), 0);
  auto upper = paths::container(dir_.path(), "ctr-view") / "upper";
  EXPECT_EQ(*readFile(upper / "keep/x"), "changed");
  struct stat st {};
  ASSERT_EQ(::lstat((upper / "etc/passwd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(*readFile(*snapshots_->fsPath(chains[0]) / "keep/x"), "x");
  EXPECT_TRUE(std::filesystem::exists(*snapshots_->fsPath(chains[0]) / "etc/passwd"));

  // A second container on the same layers sees the image, not the first one's changes.
  auto other = mounts_->mount("ctr-other", chains, {.api = GetParam()});
  ASSERT_TRUE(other) << other.error().message();
  EXPECT_EQ(*readFile(other->merged / "keep/x"), "x");

  ASSERT_TRUE(mounts_->remove("ctr-view"));
  EXPECT_FALSE(isMountPoint(m->merged));
  EXPECT_FALSE(std::filesystem::exists(paths::container(dir_.path(), "ctr-view")));
  EXPECT_TRUE(mounts_->remove("ctr-view"));  // idempotent
}

TEST_P(ImagesOverlayTest, TheMergedRootHasTheImageRootsModeAndOwner) {
  auto chains = unpack({TarBuilder().dir("./", 0750, 0, 1234).file("a", "1").finish()});
  mode_t old = ::umask(077);
  auto m = mounts_->mount("root-mode", chains, {.api = GetParam()});
  ::umask(old);
  ASSERT_TRUE(m) << m.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(m->merged.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_gid, 1234u);
}

TEST_P(ImagesOverlayTest, ReadOnlyViewsRefuseWrites) {
  auto chains =
      unpack({TarBuilder().file("a", "1").finish(), TarBuilder().file("b", "2").finish()});
  for (size_t layers : {1u, 2u}) {
    std::vector<std::string> use(chains.begin(), chains.begin() + layers);
    std::string id = fmt::format("ro-{}", layers);
    auto m = mounts_->mount(id, use, {.readOnly = true, .api = GetParam()});
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(*readFile(m->merged / "a"), "1");
    UniqueFd fd(::open((m->merged / "new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    EXPECT_FALSE(fd);
    EXPECT_EQ(errno, EROFS);
    EXPECT_FALSE(std::filesystem::exists(paths::container(dir_.path(), id) / "upper"));
    ASSERT_TRUE(mounts_->remove(id));
    EXPECT_FALSE(std::filesystem::exists(paths::container(dir_.path(), id)));
  }
}

TEST_P(ImagesOverlayTest, FailuresLeaveNothing) {
  auto chains = unpack({TarBuilder().file("a", "1").finish()});
  auto missing = mounts_->mount("c1", {chains[0], sha256Of("not unpacked")}, {.api = GetParam()});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(paths::container(dir_.path(), "c1")));
  auto badId = mounts_->mount("../escape", chains, {.api = GetParam()});
  ASSERT_FALSE(badId);
  EXPECT_EQ(badId.error().message(), "invalid container id \"../escape\"");
  ASSERT_TRUE(mounts_->mount("c2", chains, {.api = GetParam()}));
  auto twice = mounts_->mount("c2", chains, {.api = GetParam()});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code(), Code::kAlreadyExists);
}

INSTANTIATE_TEST_SUITE_P(Api, ImagesOverlayTest,
                         ::testing::Values(OverlayApi::kAuto, OverlayApi::kLegacy),
                         [](const auto& info) {
                           return info.param == OverlayApi::kAuto ? "Auto" : "Legacy";
                         });

class ImagesManyLayersTest : public ImagesOverlayTest {};

TEST_F(ImagesManyLayersTest, ManyLayersMount) {
  constexpr size_t kLayers = 100;
  std::vector<std::string> tars;
  for (size_t i = 0; i < kLayers; ++i)
    tars.push_back(TarBuilder().file(fmt::format("l{:03}", i), "x").finish());
  auto chains = unpack(tars);

  // The option string has room for about 60 "<hex>/fs" lower dirs in a page.
  auto legacy = mounts_->mount("legacy", chains, {.api = OverlayApi::kLegacy});
  ASSERT_FALSE(legacy);
  EXPECT_EQ(legacy.error().code(), Code::kResourceExhausted);
  EXPECT_NE(legacy.error().message().find("100 layers"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(paths::container(dir_.path(), "legacy")));
  std::vector<std::string> fifty(chains.begin(), chains.begin() + 50);
  auto legacy50 = mounts_->mount("legacy50", fifty, {.api = OverlayApi::kLegacy});
  ASSERT_TRUE(legacy50) << legacy50.error().message();
  EXPECT_EQ(listDir(legacy50->merged).size(), 50u);

  if (!ContainerMounts::kernelHasLowerdirPlus()) {
    GTEST_SKIP() << "this kernel's overlayfs lacks lowerdir+ (Linux 6.8)";
  }
  auto m = mounts_->mount("many", chains);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(listDir(m->merged).size(), kLayers);
}

}  // namespace
}  // namespace berth::images
