// Pod namespaces pinned by bind mounts (no pause container) and berth-pod-init for a shared PID
// namespace: real namespaces, checked from processes that join them.
#include "shim/sandbox/pod_namespaces.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/unique_fd.h"

namespace berth::shim {
namespace {

namespace fs = std::filesystem;
constexpr long kNsfsMagic = 0x6e736673;

class PodNamespacesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates namespaces and mounts";
    root_ = fs::temp_directory_path() / fmt::format("berth-podns-{}", ::getpid());
    options_.pinRoot = root_;
    options_.podId =
        "pod-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_.hostname = "web-0";
    options_.podInitPath = BERTH_POD_INIT_PATH;
  }
  void TearDown() override {
    if (root_.empty()) return;
    (void)removePodNamespaces(options_, -1);
    fs::remove_all(root_);
  }
  // Runs `fn` in a child that joined the namespace at `pin`; returns its exit status.
  static int inNamespace(const fs::path& pin, int type, const std::function<int()>& fn) {
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(pin.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, type) < 0) ::_exit(100);
      ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  static ino_t inode(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_ino;
  }
  fs::path root_;
  PodNamespaceOptions options_;
};

TEST_F(PodNamespacesTest, PinsNetIpcUtsThatProcessesJoin) {
  auto ns = createPodNamespaces(options_);
  ASSERT_TRUE(ns) << ns.error().message();
  ASSERT_TRUE(ns->net && ns->ipc && ns->uts);
  EXPECT_EQ(*ns->net, root_ / "net" / options_.podId);
  for (const auto& [pin, self] :
       {std::pair{*ns->net, "/proc/self/ns/net"}, std::pair{*ns->ipc, "/proc/self/ns/ipc"},
        std::pair{*ns->uts, "/proc/self/ns/uts"}}) {
    struct statfs st {};
    ASSERT_EQ(::statfs(pin.c_str(), &st), 0);
    EXPECT_EQ(st.f_type, kNsfsMagic) << pin << " is not an nsfs bind mount";
    EXPECT_NE(inode(pin), inode(self)) << pin << " is the host's namespace";
  }
  EXPECT_EQ(inNamespace(*ns->uts, CLONE_NEWUTS,
                        [] {
                          utsname u;
                          ::uname(&u);
                          return std::string(u.nodename) == "web-0" ? 0 : 1;
                        }),
            0);
  // A fresh network namespace has only lo.
  EXPECT_EQ(inNamespace(*ns->net, CLONE_NEWNET,
                        [] {
                          std::ifstream dev("/proc/self/net/dev");
                          std::string line;
                          int links = 0;
                          while (std::getline(dev, line))
                            if (line.find(':') != std::string::npos) ++links;
                          return links;
                        }),
            1);
  ASSERT_TRUE(removePodNamespaces(options_, ns->pidInit));
  EXPECT_FALSE(fs::exists(*ns->net));
  EXPECT_FALSE(fs::exists(*ns->uts));
  EXPECT_TRUE(removePodNamespaces(options_, ns->pidInit)) << "remove is idempotent";
}

TEST_F(PodNamespacesTest, HostNamespacesAreNotPinned) {
  options_.hostNetwork = true;
  options_.hostUts = true;
  auto ns = createPodNamespaces(options_);
  ASSERT_TRUE(ns) << ns.error().message();
  EXPECT_FALSE(ns->net);
  EXPECT_FALSE(ns->uts);
  ASSERT_TRUE(ns->ipc);
  EXPECT_FALSE(fs::exists(root_ / "net" / options_.podId));
}

TEST_F(PodNamespacesTest, SharedPidRunsAnInitAsPidOne) {
  options_.sharedPid = true;
  auto ns = createPodNamespaces(options_);
  ASSERT_TRUE(ns) << ns.error().message();
  ASSERT_GT(ns->pidInit, 0);
  auto status = readFile(fmt::format("/proc/{}/status", ns->pidInit));
  ASSERT_TRUE(status);
  // NSpid: <host pid> 1
  EXPECT_NE(status->find(fmt::format("NSpid:\t{}\t1\n", ns->pidInit)), std::string::npos)
      << *status;
  EXPECT_EQ(readFile(fmt::format("/proc/{}/comm", ns->pidInit)).value_or(""), "berth-pod-init\n");
  EXPECT_NE(::getsid(ns->pidInit), ::getsid(0)) << "the init must outlive berth-cri's session";
  ASSERT_TRUE(removePodNamespaces(options_, ns->pidInit));
  // It is not our child: wait for it to disappear.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    auto s = readFile(fmt::format("/proc/{}/status", ns->pidInit));
    gone = !s || s->find("State:\tZ") != std::string::npos;
    if (!gone) ::usleep(10000);
  }
  EXPECT_TRUE(gone);
}

TEST_F(PodNamespacesTest, FailuresLeaveNothing) {
  // The same pod twice: the second is refused and the first's pins stay intact.
  auto first = createPodNamespaces(options_);
  ASSERT_TRUE(first) << first.error().message();
  auto second = createPodNamespaces(options_);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Code::kAlreadyExists);
  EXPECT_NE(second.error().message().find("net namespace is already pinned"), std::string::npos);
  struct statfs st {};
  ASSERT_EQ(::statfs(first->net->c_str(), &st), 0);
  EXPECT_EQ(st.f_type, kNsfsMagic);
  ASSERT_TRUE(removePodNamespaces(options_, -1));
  // A broken init path: an error naming it, and the pinned namespaces rolled back.
  options_.sharedPid = true;
  options_.podInitPath = "/nonexistent/berth-pod-init";
  options_.podId = "pod-broken-init";
  auto broken = createPodNamespaces(options_);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("/nonexistent/berth-pod-init"), std::string::npos)
      << broken.error().message();
  EXPECT_FALSE(fs::exists(root_ / "net" / "pod-broken-init"));
  auto bad = createPodNamespaces({.podId = "../x", .pinRoot = root_});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("\"../x\""), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
