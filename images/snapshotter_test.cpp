#include "images/snapshotter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "images/digest.h"
#include "images/paths.h"
#include "images/tar_builder_for_test.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;
using testing::TempDir;

bool privileged() {
  return ::geteuid() == 0;
}

// Writes a layer blob to a file and returns an fd on it.
UniqueFd blobFd(const TempDir& dir, const std::string& data) {
  static int n = 0;
  auto path = dir.path() / fmt::format("blob-{}", n++);
  EXPECT_TRUE(writeFile(path, data));
  return std::move(*openFd(path, O_RDONLY | O_CLOEXEC));
}

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    outside_ = dir_.path() / "outside";
    ASSERT_TRUE(makeDirs(outside_));
    ASSERT_TRUE(writeFile(outside_ / "victim", "original"));
    auto s = Snapshotter::open(root_);
    ASSERT_TRUE(s);
    snapshotter_.emplace(std::move(*s));
  }

  // Unpacks `tar` (uncompressed bytes) compressed with c; diff id as computed from the bytes.
  Status unpack(const std::string& tar, Compression c = Compression::kNone,
                std::string diffId = {}) {
    if (diffId.empty()) diffId = sha256Of(tar);
    SnapshotInfo info{.chainId = diffId, .diffId = diffId, .parent = {}};
    auto fd = blobFd(dir_, TarBuilder::compress(tar, c));
    return snapshotter_->unpack(info, fd.get(), {.privileged = privileged()});
  }

  std::filesystem::path fs(const std::string& tar) { return *snapshotter_->fsPath(sha256Of(tar)); }

  void expectNothingLeft() {
    EXPECT_TRUE(snapshotter_->list()->empty());
    EXPECT_TRUE(std::filesystem::is_empty(paths::snapshotTmpDir(root_)));
    EXPECT_EQ(*readFile(outside_ / "victim"), "original");
    std::vector<std::string> outside;
    for (const auto& e : std::filesystem::directory_iterator(outside_))
      outside.push_back(e.path().filename().string());
    EXPECT_EQ(outside, std::vector<std::string>{"victim"});
  }

  TempDir dir_;
  std::filesystem::path root_;
  std::filesystem::path outside_;
  std::optional<Snapshotter> snapshotter_;
};

TEST_F(SnapshotterTest, UnpacksEveryEntryKindWithItsMetadata) {
  if (!privileged()) GTEST_SKIP() << "needs root (chown, mknod, trusted xattrs)";
  std::string sparse(1 << 20, '\0');
  sparse.replace(sparse.size() - 4, 4, "tail");
  auto tar = TarBuilder()
                 .dir("./", 0755)
                 .dir("etc/", 0750, 0, 42)
                 .file("etc/passwd", "root:x:0:0\n", 0640, 1000, 1001, {{"user.note", "hi"}})
                 .file("bin/busybox", "ELF", 04755)
                 .hardlink("bin/sh", "bin/busybox")
                 .symlink("bin/ls", "busybox")
                 .symlink("abs", "/etc/passwd")
                 .chardev("dev/null", 1, 3)
                 .fifo("run/fifo")
                 .file("big", sparse)
                 .finish();
  ASSERT_TRUE(unpack(tar));
  auto root = fs(tar);
  struct stat st {};
  ASSERT_EQ(::lstat((root / "etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_gid, 42u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(::lstat((root / "etc/passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  char value[8] = {};
  EXPECT_EQ(::getxattr((root / "etc/passwd").c_str(), "user.note", value, sizeof value), 2);
  EXPECT_STREQ(value, "hi");
  ASSERT_EQ(::lstat((root / "bin/busybox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_nlink, 2u);
  struct stat sh {};
  ASSERT_EQ(::lstat((root / "bin/sh").c_str(), &sh), 0);
  EXPECT_EQ(sh.st_ino, st.st_ino);
  EXPECT_EQ(std::filesystem::read_symlink(root / "bin/ls"), "busybox");
  EXPECT_EQ(std::filesystem::read_symlink(root / "abs"), "/etc/passwd");
  ASSERT_EQ(::lstat((root / "dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  ASSERT_EQ(::lstat((root / "run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(*readFile(root / "big"), sparse);
  auto info = snapshotter_->info(sha256Of(tar));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->diffId, sha256Of(tar));
}

TEST_F(SnapshotterTest, WhiteoutsBecomeOverlayWhiteouts) {
  if (!privileged()) GTEST_SKIP() << "needs root (mknod, trusted xattrs)";
  auto tar = TarBuilder()
                 .dir("etc/")
                 .empty("etc/.wh.hosts")
                 .dir("var/cache/")
                 .empty("var/cache/.wh..wh..opq")
                 .file("var/cache/new", "n")
                 .finish();
  ASSERT_TRUE(unpack(tar));
  auto root = fs(tar);
  struct stat st {};
  ASSERT_EQ(::lstat((root / "etc/hosts").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(std::filesystem::exists(root / "etc/.wh.hosts"));
  char value[4] = {};
  EXPECT_EQ(::getxattr((root / "var/cache").c_str(), "trusted.overlay.opaque", value, sizeof value),
            1);
  EXPECT_EQ(value[0], 'y');
  EXPECT_FALSE(std::filesystem::exists(root / "var/cache/.wh..wh..opq"));
  EXPECT_TRUE(std::filesystem::exists(root / "var/cache/new"));
}

TEST_F(SnapshotterTest, SparseEntriesStaySparse) {
  // GNU tar writes holes as sparse maps (tar -S); they must not become written zeros.
  auto src = dir_.path() / "sparse-src";
  ASSERT_TRUE(makeDirs(src));
  {
    auto fd = openFd(src / "disk.img", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    ASSERT_TRUE(fd);
    ASSERT_EQ(::ftruncate(fd->get(), 64 << 20), 0);
    ASSERT_EQ(::pwrite(fd->get(), "head", 4, 0), 4);
    ASSERT_EQ(::pwrite(fd->get(), "tail", 4, (64 << 20) - 4), 4);
  }
  auto tarPath = dir_.path() / "sparse.tar";
  std::string cmd = fmt::format("tar --sparse --format=pax -cf {} -C {} disk.img", tarPath.string(),
                                src.string());
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "GNU tar is not available";
  auto tar = readFile(tarPath);
  ASSERT_TRUE(tar);
  ASSERT_LT(tar->size(), 1u << 20);  // the tar itself holds no hole bytes
  ASSERT_TRUE(unpack(*tar));
  auto out = fs(*tar) / "disk.img";
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20);
  auto data = readFile(out);
  EXPECT_EQ(data->substr(0, 4), "head");
  EXPECT_EQ(data->substr(data->size() - 4), "tail");
  EXPECT_EQ(data->find_first_not_of('\0', 4), data->size() - 4);
}

TEST_F(SnapshotterTest, CompressionsGiveTheSameDiffId) {
  auto tar = TarBuilder().dir("a/").file("a/b", std::string(100000, 'q')).finish();
  for (auto c : {Compression::kGzip, Compression::kZstd, Compression::kNone}) {
    ASSERT_TRUE(snapshotter_->remove(sha256Of(tar)));
    auto st = unpack(tar, c);
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(*readFile(fs(tar) / "a/b"), std::string(100000, 'q'));
  }
}

TEST_F(SnapshotterTest, ADiffIdMismatchLeavesNoSnapshot) {
  auto tar = TarBuilder().file("a", "x").finish();
  auto st = unpack(tar, Compression::kGzip, sha256Of("something else"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), Code::kDataLoss);
  EXPECT_NE(st.error().message().find("diff id is " + sha256Of(tar)), std::string::npos)
      << st.error().message();
  expectNothingLeft();
}

TEST_F(SnapshotterTest, UnpacksOncePerChainId) {
  auto tar = TarBuilder().file("a", "x").finish();
  ASSERT_TRUE(unpack(tar));
  ASSERT_TRUE(writeFile(fs(tar) / "marker", "kept"));
  ASSERT_TRUE(unpack(tar));
  EXPECT_TRUE(std::filesystem::exists(fs(tar) / "marker"));
}

TEST_F(SnapshotterTest, ImplicitDirectoriesAre0755WhateverTheUmask) {
  mode_t old = ::umask(077);
  auto tar = TarBuilder().file("usr/share/doc/x", "x").finish();
  auto st = unpack(tar);
  ::umask(old);
  ASSERT_TRUE(st) << st.error().message();
  for (const char* dir : {"", "usr", "usr/share", "usr/share/doc"}) {
    struct stat sb {};
    ASSERT_EQ(::stat((fs(tar) / dir).c_str(), &sb), 0) << dir;
    EXPECT_EQ(sb.st_mode & 07777, 0755u) << dir;
  }
}

TEST_F(SnapshotterTest, NonAsciiAndLongNamesKeepTheirBytes) {
  std::string utf8 =
      "usr/share/locale/fran\xc3\xa7"
      "ais/\xe6\x97\xa5\xe6\x9c\xac";
  std::string latin1 = "opt/caf\xe9";  // not UTF-8 at all: Linux names are bytes
  std::string longName = "d/" + std::string(200, 'n') + "/" + std::string(150, 'f');
  auto tar = TarBuilder().file(utf8, "u").file(latin1, "l").file(longName, "x").finish();
  auto st = unpack(tar);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(*readFile(fs(tar) / utf8), "u");
  EXPECT_EQ(*readFile(fs(tar) / latin1), "l");
  EXPECT_EQ(*readFile(fs(tar) / longName), "x");
}

TEST_F(SnapshotterTest, EmptyLayersUnpackToEmptySnapshots) {
  // An empty tar (end-of-archive blocks only), and an empty stream (some tools gzip nothing).
  for (auto c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    for (const std::string& tar : {TarBuilder().finish(), std::string()}) {
      if (c == Compression::kNone && tar.empty()) continue;  // a 0-byte blob: below
      ASSERT_TRUE(snapshotter_->remove(sha256Of(tar)));
      auto st = unpack(tar, c);
      ASSERT_TRUE(st) << st.error().message();
      EXPECT_TRUE(std::filesystem::is_empty(fs(tar)));
    }
  }
  auto zero = unpack("");
  EXPECT_TRUE(zero) << zero.error().message();
}

TEST_F(SnapshotterTest, UnpacksAfterGcRemovedItsTmpDir) {
  ASSERT_TRUE(removeAll(paths::snapshotTmpDir(root_)));
  auto st = unpack(TarBuilder().file("a", "x").finish());
  EXPECT_TRUE(st) << st.error().message();
}

TEST_F(SnapshotterTest, GarbageIsRefused) {
  auto st = unpack("this is not a tar stream at all, just some text");
  ASSERT_FALSE(st);
  expectNothingLeft();
}

struct EscapeCase {
  const char* what;
  std::function<void(TarBuilder&, const std::string& outside)> build;
  std::string wantEntry;  // `entry "<name>"` must appear in the message
};

TEST_F(SnapshotterTest, MaliciousLayersAreRefusedAndLeaveNothing) {
  std::vector<EscapeCase> cases = {
      {"dot-dot file", [](TarBuilder& t, auto&) { t.file("../victim", "pwned"); }, "../victim"},
      {"deep dot-dot", [](TarBuilder& t, auto&) { t.dir("a/").file("a/../../victim", "pwned"); },
       "a/../../victim"},
      {"absolute file", [](TarBuilder& t, auto& o) { t.file(o + "/victim", "pwned"); },
       "OUTSIDE/victim"},
      {"file through a symlink out",
       [](TarBuilder& t, auto& o) { t.symlink("evil", o).file("evil/victim", "pwned"); },
       "evil/victim"},
      {"file through a relative symlink out",
       [](TarBuilder& t, auto&) {
         t.symlink("evil", "../../../../../../../../").file("evil/tmp/x", "pwned");
       },
       "evil/tmp/x"},
      {"dir through a symlink out",
       [](TarBuilder& t, auto& o) { t.symlink("evil", o).dir("evil/newdir/"); }, "evil/newdir/"},
      {"hard link out", [](TarBuilder& t, auto&) { t.hardlink("x", "../outside/victim"); }, "x"},
      {"hard link absolute", [](TarBuilder& t, auto& o) { t.hardlink("x", o + "/victim"); }, "x"},
      {"hard link through a symlink",
       [](TarBuilder& t, auto& o) { t.symlink("d", o).hardlink("x", "d/victim"); }, "x"},
      {"whiteout above the root", [](TarBuilder& t, auto&) { t.empty("../outside/.wh.victim"); },
       "../outside/.wh.victim"},
      {"whiteout through a symlink",
       [](TarBuilder& t, auto& o) { t.symlink("evil", o).empty("evil/.wh.victim"); },
       "evil/.wh.victim"},
      {"opaque through a symlink",
       [](TarBuilder& t, auto& o) { t.symlink("evil", o).empty("evil/.wh..wh..opq"); },
       "evil/.wh..wh..opq"},
      {"whiteout of dot-dot", [](TarBuilder& t, auto&) { t.dir("a/").empty("a/.wh.."); },
       "a/.wh.."},
      {"forged overlay redirect",
       [](TarBuilder& t, auto&) {
         t.file("r", "x", 0644, 0, 0, {{"trusted.overlay.redirect", "/etc"}});
       },
       "r"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    TarBuilder t;
    t.file("ok", "fine");
    c.build(t, outside_.string());
    auto tar = t.finish();
    auto st = unpack(tar, Compression::kGzip);
    ASSERT_FALSE(st) << c.what;
    std::string want = c.wantEntry;
    if (want.starts_with("OUTSIDE")) want.replace(0, 7, outside_.string());
    EXPECT_NE(st.error().message().find(fmt::format("entry \"{}", want)), std::string::npos)
        << st.error().message();
    expectNothingLeft();
  }
}

}  // namespace
}  // namespace berth::images
