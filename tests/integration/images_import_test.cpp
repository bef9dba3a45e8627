// `berth image import` of the archive tests/fixtures/make-oci-image.sh builds (what a node that
// reaches no registry is given): listed under its normalised name, a container filesystem mounted
// from it with busybox-static inside and runnable, a second import changing nothing, and a
// corrupted copy refused with nothing recorded. Root (unpacks with ownership, mounts overlays).

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/spawn.h"
#include "images/digest.h"
#include "images/paths.h"
#include "images/test_util.h"

namespace berth::images {
namespace {

using testing::TempDir;

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

Output run(std::vector<std::string> argv) {
  SpawnOptions o{.path = argv[0], .args = argv};
  o.captureStdout = true;
  o.captureStderr = true;
  o.timeout = std::chrono::seconds(60);
  auto r = runProgram(o);
  if (!r) return {.err = r.error().message()};
  return {.code = r->status.code, .out = r->stdoutData, .err = r->stderrData};
}

class ImagesImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: unpacks with ownership, mounts overlays";
    if (::access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "busybox-static is not installed";
    root_ = dir_.path() / "store";
    archive_ = dir_.path() / "busybox-demo.tar";
    auto made = run({BERTH_FIXTURES_DIR "/make-oci-image.sh", archive_.string(), "busybox:demo",
                     "--", "httpd", "-f", "-p", "8080"});
    ASSERT_EQ(made.code, 0) << made.err;
  }

  void TearDown() override {
    if (!root_.empty()) (void)berth({"image", "umount", "c1"});
  }

  Output berth(std::vector<std::string> args) {
    std::vector<std::string> argv = {BERTH_BINARY, "--root", root_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }

  TempDir dir_;
  std::filesystem::path root_;
  std::filesystem::path archive_;
};

TEST_F(ImagesImportTest, TheFixtureArchiveRunsBusyboxFromAMountedRootfs) {
  auto imported = berth({"image", "import", archive_.string()});
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(imported.out.find("Imported docker.io/library/busybox:demo (sha256:"), 0u)
      << imported.out;
  auto ls = berth({"image", "ls"});
  ASSERT_EQ(ls.code, 0) << ls.err;
  EXPECT_NE(ls.out.find("docker.io/library/busybox:demo"), std::string::npos) << ls.out;
  auto inspect = berth({"image", "inspect", "busybox:demo"});
  ASSERT_EQ(inspect.code, 0) << inspect.err;
  auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j[0]["imageConfig"]["config"]["Cmd"],
            nlohmann::json::array({"httpd", "-f", "-p", "8080"}));

  auto m = berth({"image", "mount", "busybox:demo", "c1"});
  ASSERT_EQ(m.code, 0) << m.err;
  std::filesystem::path merged = m.out.substr(0, m.out.find('\n'));
  struct stat bb {};
  ASSERT_EQ(::stat((merged / "bin/busybox").c_str(), &bb), 0);
  EXPECT_TRUE(S_ISREG(bb.st_mode));
  EXPECT_EQ(bb.st_mode & 0777, 0755u);
  EXPECT_EQ(sha256Of(*readFile(merged / "bin/busybox")), sha256Of(*readFile("/bin/busybox")));
  EXPECT_EQ(std::filesystem::read_symlink(merged / "bin/sh"), "/bin/busybox");
  // Inside the rootfs, as a container would: sh resolves to the image's busybox.
  auto sh = run({"/usr/sbin/chroot", merged.string(), "/bin/sh", "-c", "echo hello from $0"});
  EXPECT_EQ(sh.code, 0) << sh.err;
  EXPECT_EQ(sh.out, "hello from /bin/sh\n");
  auto u = berth({"image", "umount", "c1"});
  ASSERT_EQ(u.code, 0) << u.err;

  // Again: the same image, nothing added.
  auto blobs = std::distance(std::filesystem::directory_iterator(paths::blobsDir(root_)), {});
  auto again = berth({"image", "import", archive_.string()});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, imported.out);
  auto ids = berth({"image", "ls", "-q"});
  EXPECT_EQ(std::count(ids.out.begin(), ids.out.end(), '\n'), 1) << ids.out;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(paths::blobsDir(root_)), {}), blobs);
}

TEST_F(ImagesImportTest, ACorruptedArchiveIsRefusedNamingTheEntry) {
  auto data = *readFile(archive_);
  // Flip a byte in the middle of the archive: inside the gzip layer, by far the largest blob.
  data[data.size() / 2] ^= 0x01;
  auto bad = dir_.path() / "corrupt.tar";
  ASSERT_TRUE(writeFile(bad, data));
  auto r = berth({"image", "import", bad.string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err.find("berth: " + bad.string() + ": entry \"blobs/sha256/"), 0u) << r.err;
  EXPECT_NE(r.err.find("content digest is"), std::string::npos) << r.err;
  auto ls = berth({"image", "ls", "-q"});
  EXPECT_EQ(ls.out, "");
}

}  // namespace
}  // namespace berth::images
