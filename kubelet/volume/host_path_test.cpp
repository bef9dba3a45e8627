#include "kubelet/volume/host_path.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"

namespace berth::kubelet::volume {
namespace {
namespace fs = std::filesystem;

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(makeDirs(tmp_.path() / "dir"));
    ASSERT_TRUE(writeFile(tmp_.path() / "file", "x"));
    fs::create_symlink("dir", tmp_.path() / "link-to-dir");
    sock_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sock_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string p = path("sock");
    ASSERT_LT(p.size(), sizeof addr.sun_path);
    p.copy(addr.sun_path, p.size());
    ASSERT_EQ(::bind(sock_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  void TearDown() override { ::close(sock_); }
  std::string path(const char* name) { return (tmp_.path() / name).string(); }

  berth::testing::TempDir tmp_{"berth-hostpath"};
  int sock_ = -1;
};

TEST_F(HostPathTest, TypeChecks) {
  struct Case {
    const char* type;
    const char* name;   // under the temp dir, or an absolute path
    const char* error;  // "" for success; else the text after "<path> is not a "
  } cases[] = {
      {"", "missing", ""},
      {"Directory", "dir", ""},
      {"Directory", "link-to-dir", ""},  // followed, as os.Stat does
      {"Directory", "file", "directory"},
      {"Directory", "missing", "directory"},
      {"DirectoryOrCreate", "file", "directory"},
      {"File", "file", ""},
      {"File", "dir", "file"},
      {"File", "missing", "file"},
      {"FileOrCreate", "dir", "file"},
      {"Socket", "sock", ""},
      {"Socket", "file", "socket file"},
      {"CharDevice", "/dev/null", ""},
      {"CharDevice", "file", "character device"},
      {"BlockDevice", "/dev/null", "block device"},
  };
  for (const auto& c : cases) {
    std::string p = c.name[0] == '/' ? c.name : path(c.name);
    Status st = checkHostPathType(p, c.type);
    if (*c.error == '\0') {
      EXPECT_TRUE(st) << c.type << " " << c.name << ": " << st.error().message();
    } else {
      ASSERT_FALSE(st) << c.type << " " << c.name;
      EXPECT_EQ(st.error().message(),
                fmt::format("hostPath type check failed: {} is not a {}", p, c.error));
    }
  }
}

TEST_F(HostPathTest, OrCreateMakesWhatIsMissing) {
  mode_t old = ::umask(022);
  Status dir = checkHostPathType(path("new/nested/dir"), "DirectoryOrCreate");
  Status file = checkHostPathType(path("new-file"), "FileOrCreate");
  ::umask(old);
  ASSERT_TRUE(dir) << dir.error().message();
  ASSERT_TRUE(file) << file.error().message();
  struct stat st {};
  ASSERT_EQ(::stat(path("new/nested/dir").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(::stat(path("new-file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  // A second call finds them.
  EXPECT_TRUE(checkHostPathType(path("new/nested/dir"), "DirectoryOrCreate"));
  EXPECT_TRUE(checkHostPathType(path("new-file"), "FileOrCreate"));
}

TEST_F(HostPathTest, UnknownTypeIsAnError) {
  Status st = checkHostPathType(path("dir"), "Folder");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "Folder is an invalid volume type");
}

}  // namespace
}  // namespace berth::kubelet::volume
