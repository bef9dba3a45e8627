// Debian's containerd (1.6, its CRI plugin) running berth's CNI plugins (bridge, host-local,
// portmap, and loopback for the pod's lo), driven over CRI by the tests' own client: a pod with a
// hostPort, reached on 127.0.0.1, then removed with nothing of it left (veth, address
// reservation, nftables elements, pinned netns, containerd's CNI result cache). containerd's
// CRI hands portmap its port mappings from a Go struct without JSON tags
// ({"HostPort":18080,"ContainerPort":80,...}): the case the plugins must read as the reference
// plugins do.
//
// containerd runs in a network namespace of the test's (nsenter --net), so the bridge, the veth
// pairs, the nftables table and 127.0.0.1 are all that namespace's, and nothing of the network
// is done on the host. Images are imported with ctr (no registry needed): busybox-static with
// nc, and berth-pod-init as the sandbox ("pause") image.

#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/spawn.h"
#include "tests/integration/cni/cni_fixture.h"
#include "tests/integration/containerd/containerd_fixture.h"
#include "tests/integration/cri_client.h"
#include "tests/integration/registry_fixture.h"

namespace berth::cri_testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using berth::testing::TestNetns;

constexpr const char* kNetwork = "ctrdnet";
constexpr const char* kBridge = "cni-ctn0";
constexpr const char* kSubnet = "10.95.0.0/24";
constexpr int kHostPort = 18080;

std::string which(const std::string& program) {
  SpawnOptions o{.path = "sh", .args = {"sh", "-c", "command -v " + program}};
  o.captureStdout = true;
  auto r = runProgram(o);
  if (!r || !r->status.success()) return "";
  return r->stdoutData.substr(0, r->stdoutData.find('\n'));
}

class ContainerdCni : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (containerd, namespaces, mounts)";
    for (const char* tool : {"containerd", "ctr", "containerd-shim-runc-v2", "runc", "nsenter"}) {
      if (which(tool).empty()) GTEST_SKIP() << tool << " is not installed";
    }
    auto busybox = readFile("/bin/busybox");
    if (!busybox || busybox->find("/lib64/ld-linux") != std::string::npos) {
      GTEST_SKIP() << "busybox-static is not installed";
    }
    busybox_ = std::move(*busybox);
    char tmpl[] = "/tmp/bctn-XXXXXX";  // short: containerd's socket lives under it
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    hostDirs_ = missingContainerdHostDirs();
    cgroupParent_ = fmt::format("berthctn{}", ::getpid());
    netns_ = std::make_unique<TestNetns>("berth-ctn");
    ASSERT_TRUE(netns_->ok());
    ASSERT_EQ(netns_->exec({"ip", "link", "set", "lo", "up"}).first, 0);
  }

  void TearDown() override {
    if (client_) client_->removeAllPods();
    if (HasFailure() && ctrd_) {
      auto log = readFile(ctrd_->log()).value_or("");
      std::fprintf(stderr, "--- containerd.log (tail)\n%s\n",
                   log.substr(log.size() > 6000 ? log.size() - 6000 : 0).c_str());
    }
    client_.reset();
    ctrd_.reset();  // containerd, then its shims
    if (!dir_.empty()) unmountUnder(dir_);
    removeCgroups(cgroupParent_);
    netns_.reset();
    removeIfEmpty(hostDirs_);
    if (!dir_.empty()) (void)removeAll(dir_);
  }

  void writeNetwork() {
    ASSERT_TRUE(makeDirs(dir_ / "net.d"));
    ASSERT_TRUE(writeFile(dir_ / "net.d/10-ctrd.conflist",
                          fmt::format(R"({{"cniVersion": "1.0.0", "name": "{}", "plugins": [
  {{"type": "bridge", "bridge": "{}", "isGateway": true, "ipMasq": true,
    "ipam": {{"type": "host-local", "dataDir": "{}/ipam", "ranges": [[{{"subnet": "{}"}}]]}}}},
  {{"type": "portmap", "capabilities": {{"portMappings": true}}}}]}}
)",
                                      kNetwork, kBridge, dir_.string(), kSubnet)));
  }

  void importImage(const images::testing::TestImage& image, const std::string& ref) {
    fs::path tar = dir_ / (std::to_string(++imported_) + ".tar");
    ASSERT_TRUE(writeFile(tar, images::testing::ociLayoutTar(image, ref)));
    SpawnOptions o{.path = "ctr",
                   .args = {"ctr", "--address", ctrd_->socket().string(), "--namespace", "k8s.io",
                            "images", "import", "--snapshotter", snapshotter_, tar.string()}};
    o.captureStdout = true;
    o.captureStderr = true;
    o.timeout = 60s;
    auto r = runProgram(o);
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->status.success()) << r->stdoutData << r->stderrData;
  }

  void startContainerd() {
    // The overlayfs snapshotter can't put its upper dirs on an overlayfs.
    struct statfs fs {};
    snapshotter_ = ::statfs(dir_.c_str(), &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC
                       ? "native"
                       : "overlayfs";
    auto started = Containerd::start({.dir = dir_ / "ctrd",
                                      .sandboxImage = "berth.test/ctn/pause:1",
                                      .runcPath = which("runc"),
                                      .cniBinDir = BERTH_CNI_BIN_DIR,
                                      .cniConfDir = dir_ / "net.d",
                                      .snapshotter = snapshotter_,
                                      .netnsPath = netns_->path()});
    ASSERT_TRUE(started) << started.error().message();
    ctrd_ = std::move(*started);
    client_ = std::make_unique<CriClient>("containerd", ctrd_->socket());
    auto ready = client_->waitReady(ctrd_->process(), 30s);
    ASSERT_TRUE(ready) << ready.error().message();
  }

  // "served\n" from 127.0.0.1:<port> of the test's namespace, or what came instead.
  std::string reach(int port) {
    return netns_
        ->exec({"timeout", "5", "busybox", "nc", "-w", "2", "127.0.0.1", std::to_string(port)})
        .second;
  }
  std::string inNetns(const std::vector<std::string>& argv) { return netns_->exec(argv).second; }
  std::string nftTable() { return inNetns({"nft", "list", "table", "inet", "berth-cni"}); }
  // nsfs mounts (pinned network namespaces) under the test's directory.
  std::vector<std::string> pinnedNetns() {
    std::vector<std::string> out;
    std::istringstream in(readFile("/proc/self/mountinfo").value_or(""));
    for (std::string line; std::getline(in, line);) {
      if (line.find(" " + dir_.string() + "/") != std::string::npos &&
          line.find(" - nsfs ") != std::string::npos) {
        out.push_back(line);
      }
    }
    return out;
  }

  std::string busybox_;
  fs::path dir_;
  std::vector<fs::path> hostDirs_;
  std::string cgroupParent_;
  std::string snapshotter_;
  std::unique_ptr<TestNetns> netns_;
  std::unique_ptr<Containerd> ctrd_;
  std::unique_ptr<CriClient> client_;
  int imported_ = 0;
};

TEST_F(ContainerdCni, HostPortPodReachedOnLoopbackThenRemovedWithNothingLeft) {
  auto podInit = readFile(BERTH_POD_INIT_PATH);
  ASSERT_TRUE(podInit) << podInit.error().message();
  ASSERT_NO_FATAL_FAILURE(writeNetwork());
  ASSERT_NO_FATAL_FAILURE(startContainerd());
  ASSERT_NO_FATAL_FAILURE(
      importImage(images::testing::makePauseImage(*podInit), "berth.test/ctn/pause:1"));
  ASSERT_NO_FATAL_FAILURE(
      importImage(images::testing::makeAppletImage(busybox_, {"sh", "nc", "echo", "sleep"}),
                  "berth.test/ctn/busybox:1"));

  v1::PodSandboxConfig sandbox;
  sandbox.mutable_metadata()->set_name("web");
  sandbox.mutable_metadata()->set_namespace_("berth-test");
  sandbox.mutable_metadata()->set_uid(fmt::format("ctn-{}", ::getpid()));
  sandbox.set_hostname("web");
  sandbox.set_log_directory((dir_ / "logs/web").string());
  sandbox.mutable_linux()->set_cgroup_parent(cgroupParent_);
  sandbox.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::CONTAINER);
  auto* port = sandbox.add_port_mappings();
  port->set_protocol(v1::TCP);
  port->set_container_port(80);
  port->set_host_port(kHostPort);
  port->set_host_ip("127.0.0.1");
  auto podId = client_->runPodSandbox(sandbox);
  ASSERT_TRUE(podId) << podId.error().message();
  const std::string owner = *podId + "/eth0";

  v1::ContainerConfig c;
  c.mutable_metadata()->set_name("web");
  c.mutable_image()->set_image("berth.test/ctn/busybox:1");
  for (const char* a : {"/bin/nc", "-ll", "-p", "80", "-e", "/bin/echo", "served"})
    c.add_command(a);
  c.set_log_path("web.log");
  c.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::CONTAINER);
  auto ctrId = client_->createContainer(*podId, c, sandbox);
  ASSERT_TRUE(ctrId) << ctrId.error().message();
  ASSERT_TRUE(client_->startContainer(*ctrId));

  // The pod: an address of our host-local, and its hostPort on 127.0.0.1 through our portmap.
  auto status = client_->podSandboxStatus(*podId);
  ASSERT_TRUE(status) << status.error().message();
  const std::string podIp = status->status().network().ip();
  EXPECT_TRUE(podIp.starts_with("10.95.0.")) << podIp;
  std::string answer;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < deadline && answer != "served\n";) {
    answer = reach(kHostPort);
    if (answer != "served\n") std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(answer, "served\n") << "127.0.0.1:" << kHostPort << " of the pod's host namespace";
  std::string table = nftTable();
  EXPECT_NE(table.find(fmt::format("127.0.0.1 . tcp . {} comment \"{}\" : {} . 80", kHostPort,
                                   owner, podIp)),
            std::string::npos)
      << table;
  EXPECT_NE(table.find(std::string(kSubnet)), std::string::npos) << table;  // masqueraded
  EXPECT_NE(inNetns({"ip", "-o", "link", "show", "type", "veth"}), "");
  EXPECT_TRUE(fs::exists(dir_ / "ipam" / kNetwork / podIp));
  EXPECT_FALSE(pinnedNetns().empty());
  const fs::path cache = fmt::format("/var/lib/cni/results/{}-{}-eth0", kNetwork, *podId);
  EXPECT_TRUE(fs::exists(cache)) << cache;

  ASSERT_TRUE(client_->stopContainer(*ctrId, 2));
  ASSERT_TRUE(client_->removeContainer(*ctrId));
  ASSERT_TRUE(client_->removePod(*podId));

  // Nothing of the pod is left.
  EXPECT_EQ(inNetns({"ip", "-o", "link", "show", "type", "veth"}), "");
  EXPECT_EQ(inNetns({"ls", (dir_ / "ipam" / kNetwork).string()}), "last_reserved_ip.0\nlock\n");
  table = nftTable();
  for (const std::string& gone : {owner, podIp, std::to_string(kHostPort), std::string(kSubnet)})
    EXPECT_EQ(table.find(gone), std::string::npos) << gone << " in\n" << table;
  EXPECT_EQ(pinnedNetns(), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(cache)) << cache;
  EXPECT_NE(reach(kHostPort), "served\n");
}

}  // namespace
}  // namespace berth::cri_testing
