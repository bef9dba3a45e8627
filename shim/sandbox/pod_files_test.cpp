#include "shim/sandbox/pod_files.h"

#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;

TEST(ResolvConf, WritesSearchNameserverOptionsAsContainerd) {
  DnsConfig dns{
      {"10.96.0.10", "fd00::10"}, {"ns.svc.cluster.local", "svc.cluster.local"}, {"ndots:5"}};
  auto r = resolvConfFor(dns);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r,
            "search ns.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\n"
            "nameserver fd00::10\noptions ndots:5\n");
}

TEST(ResolvConf, BadConfigsNameTheField) {
  DnsConfig tooMany{{}, std::vector<std::string>(33, "a.b"), {}};
  auto r = resolvConfFor(tooMany);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("dns_config.searches"), std::string::npos);
  DnsConfig spaced{{"10.0.0.1 10.0.0.2"}, {}, {}};
  r = resolvConfFor(spaced);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("\"10.0.0.1 10.0.0.2\""), std::string::npos);
}

class PodFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / fmt::format("berth-podfiles-{}", ::getpid());
    fs::create_directories(base_);
    std::ofstream(base_ / "host-hosts") << "127.0.0.1 localhost\n";
    std::ofstream(base_ / "host-resolv") << "nameserver 192.0.2.53\n";
    o_.dir = base_ / "pod";
    o_.hostname = "web-0";
    o_.hostHosts = base_ / "host-hosts";
    o_.hostResolvConf = base_ / "host-resolv";
    o_.hostIpc = true;  // the shm tmpfs (root only) is its own test below
  }
  void TearDown() override {
    (void)tearDownPodFiles(o_.dir);
    fs::remove_all(base_);
  }
  fs::path base_;
  PodFilesOptions o_;
};

TEST_F(PodFilesTest, WritesTheFiles) {
  DnsConfig dns{{"10.96.0.10"}, {}, {}};
  o_.dns = &dns;
  auto f = setUpPodFiles(o_);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(readFile(f->hostname).value_or(""), "web-0\n");
  EXPECT_EQ(readFile(f->hosts).value_or(""), "127.0.0.1 localhost\n");
  EXPECT_EQ(readFile(f->resolvConf).value_or(""), "nameserver 10.96.0.10\n");
  EXPECT_EQ(f->shm, "/dev/shm") << "host IPC shares the host's /dev/shm";
  ASSERT_TRUE(tearDownPodFiles(o_.dir));
  EXPECT_FALSE(fs::exists(f->hostname));
  EXPECT_TRUE(tearDownPodFiles(o_.dir)) << "idempotent";
}

TEST_F(PodFilesTest, MountsThePodsShm) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: mounts a tmpfs";
  o_.hostIpc = false;
  auto f = setUpPodFiles(o_);
  ASSERT_TRUE(f) << f.error().message();
  struct statfs st {};
  ASSERT_EQ(::statfs(f->shm.c_str(), &st), 0);
  EXPECT_EQ(st.f_type, 0x01021994) << "shm is not a tmpfs";
  EXPECT_EQ(st.f_blocks * st.f_bsize, 64u << 20);
  EXPECT_EQ(fs::status(f->shm).permissions() & fs::perms::all, fs::perms::all);
  ASSERT_TRUE(tearDownPodFiles(o_.dir));
  EXPECT_FALSE(fs::exists(o_.dir / "shm"));
}

TEST_F(PodFilesTest, WithoutDnsConfigTheHostsResolvConfIsCopied) {
  auto f = setUpPodFiles(o_);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(readFile(f->resolvConf).value_or(""), "nameserver 192.0.2.53\n");
}

TEST_F(PodFilesTest, FailureLeavesNothing) {
  o_.hostResolvConf = base_ / "missing";
  auto f = setUpPodFiles(o_);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("resolv.conf"), std::string::npos) << f.error().message();
  EXPECT_FALSE(fs::exists(o_.dir));
}

}  // namespace
}  // namespace berth::shim
