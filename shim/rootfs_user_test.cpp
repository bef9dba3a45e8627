#include "shim/rootfs_user.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace berth::cri {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "\n"
    "daemon:x:1:1::/:/bin/false\n"
    "app:x:1000:1001:App:/home/app:/bin/sh\n"
    "broken:x:notanumber:1::/:/bin/sh\n"
    "nobody:x:65534:65534::/nonexistent:/bin/false\n";
constexpr const char* kGroup =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "app:x:1001:app\n"
    "staff:x:50: app , other\n"
    "video:x:44:other\n";

TEST(ParsePasswd, SkipsCommentsBlankAndMalformedLines) {
  auto users = parsePasswd(kPasswd);
  ASSERT_EQ(users.size(), 4u);
  EXPECT_EQ(users[2].name, "app");
  EXPECT_EQ(users[2].uid, 1000u);
  EXPECT_EQ(users[2].gid, 1001u);
}

TEST(ParseGroup, MembersAreTrimmed) {
  auto groups = parseGroup(kGroup);
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[3].name, "staff");
  EXPECT_EQ(groups[3].members, (std::vector<std::string>{"app", "other"}));
}

TEST(RootfsUsers, MemberGroupsSkipTheUsersOwnGroup) {
  auto u = RootfsUsers::fromText(kPasswd, kGroup);
  EXPECT_EQ(u.memberGroups("app"), (std::vector<uint32_t>{10, 50}));
  EXPECT_EQ(u.memberGroups("root"), (std::vector<uint32_t>{10}));
  EXPECT_TRUE(u.memberGroups("nobody").empty());
}

struct ResolveCase {
  const char* spec;
  uint32_t uid;
  uint32_t gid;
  const char* error;  // substring, or nullptr for success
};

TEST(ResolveUser, Table) {
  auto users = RootfsUsers::fromText(kPasswd, kGroup);
  const ResolveCase cases[] = {
      {"0", 0, 0, nullptr},
      {"1000", 1000, 1001, nullptr},  // gid from /etc/passwd
      {"4242", 4242, 0, nullptr},     // unknown uid: gid 0, no error
      {"1000:7", 1000, 7, nullptr},   // explicit gid wins
      {"app", 1000, 1001, nullptr},
      {"app:staff", 1000, 50, nullptr},
      {"4242:staff", 4242, 50, nullptr},
      {"nobody:0", 65534, 0, nullptr},
      {"nobody2", 0, 0, "test \"x\": no such user in /etc/passwd"},
      {"app:nogroup", 0, 0, "no such group \"nogroup\" in /etc/group"},
      {"2147483648", 0, 0, "uid out of range"},
      {"-1", 0, 0, "uid out of range"},
      {"1:99999999999", 0, 0, "gid out of range"},
      {"a:b:c", 0, 0, "invalid user"},
      {"app:", 0, 0, "invalid user"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    auto r = resolveUser(users, c.spec, "test \"x\"");
    if (c.error) {
      ASSERT_FALSE(r);
      EXPECT_NE(r.error().message().find(c.error), std::string::npos) << r.error().message();
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
      continue;
    }
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->uid, c.uid);
    EXPECT_EQ(r->gid, c.gid);
  }
}

class RootfsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-rootfs-user-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "rootfs/etc");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  fs::path dir_;
};

TEST_F(RootfsDir, LoadsPasswdAndGroup) {
  write(dir_ / "rootfs/etc/passwd", kPasswd);
  write(dir_ / "rootfs/etc/group", kGroup);
  auto u = RootfsUsers::load(dir_ / "rootfs");
  ASSERT_TRUE(u) << u.error().message();
  ASSERT_NE(u->userByName("app"), nullptr);
  EXPECT_EQ(u->groupByName("staff")->gid, 50u);
}

TEST_F(RootfsDir, MissingFilesReadAsEmpty) {
  auto u = RootfsUsers::load(dir_ / "rootfs");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->userByUid(0), nullptr);
}

TEST_F(RootfsDir, SymlinksStayInsideTheRootfs) {
  // An image whose /etc/passwd points at the host's: absolute and ../ links both resolve inside
  // the rootfs, where there is no such file.
  write(dir_ / "passwd-outside", "evil:x:0:0::/:/bin/sh\n");
  fs::create_symlink("/../passwd-outside", dir_ / "rootfs/etc/passwd");
  fs::create_symlink("../../../group-outside", dir_ / "rootfs/etc/group");
  write(dir_ / "group-outside", "evil:x:0:\n");
  auto u = RootfsUsers::load(dir_ / "rootfs");
  ASSERT_TRUE(u) << u.error().message();
  EXPECT_EQ(u->userByName("evil"), nullptr);
  EXPECT_EQ(u->groupByName("evil"), nullptr);
}

TEST_F(RootfsDir, SymlinkInsideTheRootfsIsFollowed) {
  fs::create_directories(dir_ / "rootfs/usr/lib");
  write(dir_ / "rootfs/usr/lib/passwd", "app:x:7:8::/:/bin/sh\n");
  fs::create_symlink("/usr/lib/passwd", dir_ / "rootfs/etc/passwd");
  auto u = RootfsUsers::load(dir_ / "rootfs");
  ASSERT_TRUE(u) << u.error().message();
  ASSERT_NE(u->userByName("app"), nullptr);
  EXPECT_EQ(u->userByName("app")->uid, 7u);
}

TEST_F(RootfsDir, NonRegularPasswdIsAnError) {
  ASSERT_EQ(::mkfifo((dir_ / "rootfs/etc/passwd").c_str(), 0644), 0);
  auto u = RootfsUsers::load(dir_ / "rootfs");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("/etc/passwd in rootfs: not a regular file"),
            std::string::npos)
      << u.error().message();
}

TEST_F(RootfsDir, MissingRootfsIsAnError) {
  auto u = RootfsUsers::load(dir_ / "nope");
  ASSERT_FALSE(u);
  EXPECT_NE(u.error().message().find("open rootfs"), std::string::npos) << u.error().message();
}

}  // namespace
}  // namespace berth::cri
