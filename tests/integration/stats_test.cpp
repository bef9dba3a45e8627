// berth_cri_stats on the real host: cgroups nested under this test's own cgroup in each
// hierarchy with a process that allocates memory and burns CPU, a pod netns with a veth pair and
// traffic, and a writable layer with a filesystem mounted inside it.

#include <linux/magic.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "common/child_process.h"
#include "common/file_util.h"
#include "common/mount.h"
#include "common/netlink.h"
#include "common/netns.h"
#include "common/unique_fd.h"
#include "shim/sandbox/pod_namespaces.h"
#include "shim/stats/cgroup_stats.h"
#include "shim/stats/disk_usage.h"
#include "shim/stats/net_stats.h"
#include "shim/stats/stats_collector.h"

namespace berth::cri::stats {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kAllocated = 64 * kMiB;
constexpr uint64_t kLimit = 256 * kMiB;
constexpr uint64_t kSlack = 4 * kMiB;

// Polls `cond` until it holds or 20 s pass.
template <class F>
bool eventually(F cond) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class CgroupStatsHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates cgroups";
    podPath_ = fmt::format("berth-stats-it-{}", ::getpid());
    ctrPath_ = podPath_ + "/ctr";
    auto pod = podCgroup(podPath_, CgroupDriver::kCgroupfs);
    ASSERT_TRUE(pod) << pod.error().message();
    auto ctr = containerCgroup(ctrPath_, "ctr", CgroupDriver::kCgroupfs);
    ASSERT_TRUE(ctr) << ctr.error().message();
    if (!ctr->unified()) {
      for (const char* c : {"cpuacct", "memory"}) {
        bool found = false;
        for (const auto& [name, dir] : ctr->paths())
          found = found || ("," + name + ",").find(fmt::format(",{},", c)) != std::string::npos;
        if (!found) GTEST_SKIP() << "the " << c << " cgroup v1 controller is not mounted here";
      }
    }
    pod_ = std::move(*pod);
    ctr_ = std::move(*ctr);
    ASSERT_TRUE(pod_->create());
    ASSERT_TRUE(ctr_->create());
    std::string limitFile = ctr_->unified() ? "memory.max" : "memory.limit_in_bytes";
    auto limit = ctr_->apply({{"memory", limitFile, std::to_string(kLimit), "test", false}});
    if (!limit) GTEST_SKIP() << "no memory controller for this cgroup: " << limit.error().message();
  }

  void TearDown() override {
    child_.killAndReap();
    if (ctr_) {
      EXPECT_TRUE(ctr_->destroy());
    }
    if (pod_) {
      EXPECT_TRUE(pod_->destroy());
    }
  }

  // A child in the container's cgroup that touched kAllocated of anonymous memory and now spins.
  void startBusyChild() {
    int go[2], ready[2];
    ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
    UniqueFd goRead(go[0]), goWrite(go[1]), readyRead(ready[0]), readyWrite(ready[1]);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      char c;
      if (::read(goRead.get(), &c, 1) != 1) ::_exit(1);
      void* mem =
          ::mmap(nullptr, kAllocated, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) ::_exit(2);
      // 4 KiB pages, so each touch is a fault (THP would map 2 MiB per fault).
      (void)::madvise(mem, kAllocated, MADV_NOHUGEPAGE);
      for (uint64_t off = 0; off < kAllocated; off += 4096)
        static_cast<volatile char*>(mem)[off] = 1;
      if (::write(readyWrite.get(), "r", 1) != 1) ::_exit(3);
      volatile uint64_t spin = 0;
      for (;;)
        spin = static_cast<uint64_t>(spin) + 1;
    }
    child_ = ChildProcess(pid);
    ASSERT_TRUE(ctr_->addProcess(pid));
    ASSERT_EQ(::write(goWrite.get(), "g", 1), 1);
    char c;
    ASSERT_EQ(::read(readyRead.get(), &c, 1), 1);
  }

  std::string podPath_, ctrPath_;
  std::optional<runtime::CgroupManager> pod_, ctr_;
  ChildProcess child_;
};

TEST_F(CgroupStatsHost, NumbersMoveForABusyProcess) {
  StatsCollector collector(std::make_unique<HostCgroupResolver>(CgroupDriver::kCgroupfs));
  ContainerStatsInput in{"ctr", ctrPath_, "", ""};
  auto idle = collector.containerStats(in);
  ASSERT_TRUE(idle) << idle.error().message();
  ASSERT_TRUE(idle->cpu);
  ASSERT_TRUE(idle->memory);
  EXPECT_EQ(idle->processCount, 0u);
  EXPECT_LT(idle->memory->usageBytes, kAllocated);

  startBusyChild();
  // Until the child has 200 ms of CPU more than the first sample.
  uint64_t start = idle->cpu->usageCoreNanoSeconds;
  ASSERT_TRUE(eventually([&] {
    auto s = readCgroupStats(*ctr_, 0);
    return s && s->cpu && s->cpu->usageCoreNanoSeconds >= start + 200'000'000;
  }));
  auto busy = collector.containerStats(in);
  ASSERT_TRUE(busy) << busy.error().message();
  ASSERT_TRUE(busy->cpu);
  EXPECT_GE(busy->cpu->usageCoreNanoSeconds, start + 200'000'000);
  // One spinning thread: more than nothing, not more than one core (with slack for clock skew).
  EXPECT_GT(busy->cpu->usageNanoCores, 0u);
  EXPECT_LT(busy->cpu->usageNanoCores, 1'500'000'000u);
  ASSERT_TRUE(busy->memory);
  // memcg statistics are flushed in per-CPU batches (a few hundred KiB may lag): a margin.
  EXPECT_GE(busy->memory->usageBytes, kAllocated - kSlack);
  EXPECT_GE(busy->memory->workingSetBytes, kAllocated - kSlack);  // anon pages aren't file cache
  EXPECT_GE(busy->memory->rssBytes, kAllocated - kSlack);
  EXPECT_EQ(busy->memory->availableBytes, kLimit - busy->memory->workingSetBytes);
  EXPECT_GE(busy->memory->pageFaults, (kAllocated - kSlack) / 4096);
  EXPECT_EQ(busy->processCount, 1u);

  // The pod's cgroup holds the container's: at least the same numbers.
  auto pod = collector.podStats({"pod", podPath_, "", {in}});
  ASSERT_TRUE(pod) << pod.error().message();
  ASSERT_TRUE(pod->cpu);
  ASSERT_TRUE(pod->memory);
  EXPECT_GE(pod->cpu->usageCoreNanoSeconds, busy->cpu->usageCoreNanoSeconds);
  EXPECT_GE(pod->memory->usageBytes, kAllocated - kSlack);
  EXPECT_EQ(pod->memory->availableBytes, 0u);  // the pod cgroup has no limit
  EXPECT_EQ(pod->process.processCount, 1u);
  ASSERT_EQ(pod->containers.size(), 1u);

  // Gone: the process, then the cgroup.
  child_.killAndReap();
  ASSERT_TRUE(eventually([&] {
    auto s = collector.containerStats(in);
    return s && s->processCount == 0;
  }));
  ASSERT_TRUE(ctr_->destroy());
  ctr_.reset();
  auto gone = collector.containerStats(in);
  ASSERT_TRUE(gone) << gone.error().message();
  EXPECT_FALSE(gone->cpu);
  EXPECT_FALSE(gone->memory);
}

TEST_F(CgroupStatsHost, PressureComesFromTheCgroup2Directory) {
  // A hybrid host's bare cgroup2 hierarchy counts: PSI needs no controller there.
  if (ctr_->unifiedDir().empty()) GTEST_SKIP() << "no cgroup2 hierarchy for the container";
  if (!readFile("/proc/pressure/cpu")) GTEST_SKIP() << "this kernel keeps no PSI (psi=0?)";
  StatsCollector collector(std::make_unique<HostCgroupResolver>(CgroupDriver::kCgroupfs));
  ContainerStatsInput in{"ctr", ctrPath_, "", ""};
  startBusyChild();
  auto busy = collector.containerStats(in);
  ASSERT_TRUE(busy) << busy.error().message();
  // Present, not necessarily moving (one thread on an idle machine needn't stall).
  ASSERT_TRUE(busy->cpu && busy->cpu->psi && busy->cpu->psi->some);
  ASSERT_TRUE(busy->memory && busy->memory->psi && busy->memory->psi->some);
  ASSERT_TRUE(busy->io && busy->io->psi && busy->io->psi->some);
  auto pod = collector.podStats({"pod", podPath_, "", {in}});
  ASSERT_TRUE(pod) << pod.error().message();
  ASSERT_TRUE(pod->io && pod->io->psi && pod->io->psi->some);
  ASSERT_TRUE(pod->cpu && pod->cpu->psi);
}

bool unifiedHost() {
  struct statfs st {};
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

// The systemd driver's names (cgroup v2 hosts: the vm tier): a pod's cgroup_parent is a slice,
// its containers' cgroupsPath "slice:cri-berth:<id>" a scope inside it.
TEST(CgroupPlacementSystemd, SliceParentAndScope) {
  if (!unifiedHost()) GTEST_SKIP() << "the systemd driver needs a cgroup v2 host";
  auto pod = podCgroup("kubepods-burstable-pod1.slice", CgroupDriver::kSystemd);
  ASSERT_TRUE(pod) << pod.error().message();
  ASSERT_EQ(pod->paths().size(), 1u);
  EXPECT_EQ(pod->paths().begin()->second,
            "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice");
  auto ctr =
      containerCgroup("kubepods-burstable-pod1.slice:cri-berth:abc", "abc", CgroupDriver::kSystemd);
  ASSERT_TRUE(ctr) << ctr.error().message();
  EXPECT_EQ(ctr->paths().begin()->second,
            "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/"
            "cri-berth-abc.scope");
  auto bad = podCgroup("kubepods", CgroupDriver::kSystemd);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("cgroup_parent"), std::string::npos)
      << bad.error().message();
}

// Two network namespaces pinned the way berth-cri pins a pod's (shim/sandbox), under a temporary
// pin root: "host" plays the node's side of the veth, "pod" is the pod.
class NetStatsHost : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: creates network namespaces";
    std::string tmpl = (fs::temp_directory_path() / "berth-stats-ns-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    pinRoot_ = tmpl;
    for (const char* id : {"host", "pod"}) {
      shim::PodNamespaceOptions o{
          .podId = id, .pinRoot = pinRoot_, .hostIpc = true, .hostUts = true};
      auto ns = shim::createPodNamespaces(o);
      ASSERT_TRUE(ns) << ns.error().message();
      created_.push_back(o);
    }
  }
  void TearDown() override {
    for (const auto& o : created_)
      EXPECT_TRUE(shim::removePodNamespaces(o, -1));
    if (!pinRoot_.empty()) (void)removeAll(pinRoot_);
  }
  std::string path(const char* id) const { return (pinRoot_ / "net" / id).string(); }

  fs::path pinRoot_;
  std::vector<shim::PodNamespaceOptions> created_;
};

TEST_F(NetStatsHost, CountsTrafficOnTheVethInsideThePodNetns) {
  std::string podPath = path("pod");
  auto hostNs = NetNs::open(path("host"));
  auto podNs = NetNs::open(podPath);
  ASSERT_TRUE(hostNs && podNs);
  auto nlHost = MnlNetlink::openIn(*hostNs);
  auto nlPod = MnlNetlink::openIn(*podNs);
  ASSERT_TRUE(nlHost && nlPod);
  ASSERT_TRUE((*nlHost)->createVeth({"veth-h", "eth0", 0, std::nullopt, podNs->fd()}));
  auto hostLink = (*nlHost)->linkByName("veth-h");
  auto podLink = (*nlPod)->linkByName("eth0");
  ASSERT_TRUE(hostLink && *hostLink && podLink && *podLink);
  ASSERT_TRUE((*nlHost)->addAddress((*hostLink)->index, *IpNet::parse("10.99.7.1/24")));
  ASSERT_TRUE((*nlPod)->addAddress((*podLink)->index, *IpNet::parse("10.99.7.2/24")));
  ASSERT_TRUE((*nlHost)->setUp((*hostLink)->index, true));
  ASSERT_TRUE((*nlPod)->setUp((*podLink)->index, true));

  auto before = readNetworkStats(podPath, 1);
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(before->timestamp, 1);
  ASSERT_TRUE(before->defaultInterface);
  EXPECT_EQ(before->defaultInterface->name, "eth0");
  ASSERT_EQ(before->interfaces.size(), 1u);            // lo is left out (and the node's interfaces)
  EXPECT_LT(before->defaultInterface->rxBytes, kMiB);  // a fresh veth, not the node's eth0

  // UDP from the "host" side of the veth to the pod: a socket made inside that namespace.
  auto sock = inNetNs(*hostNs, []() -> Result<UniqueFd> {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return failErrno("socket");
    return UniqueFd(fd);
  });
  ASSERT_TRUE(sock) << sock.error().message();
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ASSERT_EQ(::inet_pton(AF_INET, "10.99.7.2", &to.sin_addr), 1);
  std::string payload(1000, 'x');
  constexpr uint64_t kWant = 100 * 1000;
  std::optional<NetworkUsage> after;
  ASSERT_TRUE(eventually([&] {
    (void)::sendto(sock->get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
                   sizeof(to));
    auto s = readNetworkStats(podPath, 2);
    if (!s || !s->defaultInterface) return false;
    after = *s;
    // Both: a 1000-byte payload is a 1042-byte frame, so the bytes get there ~4 packets early.
    return s->defaultInterface->rxBytes >= before->defaultInterface->rxBytes + kWant &&
           s->defaultInterface->rxPackets >= before->defaultInterface->rxPackets + 100;
  }));
  const auto& eth0 = *after->defaultInterface;
  EXPECT_GE(eth0.rxPackets, before->defaultInterface->rxPackets + 100);
  EXPECT_GT(eth0.txBytes, before->defaultInterface->txBytes);  // ARP replies, port unreachables
  EXPECT_EQ(eth0.rxErrors, 0u);
  EXPECT_EQ(eth0.txErrors, 0u);
  // This thread is back in its own namespace: no eth0 with that traffic here.
  auto self = readFile("/proc/thread-self/net/dev");
  ASSERT_TRUE(self);
  EXPECT_EQ(self->find("veth-h"), std::string::npos);
}

TEST(DiskUsageHost, AFilesystemMountedInsideIsNotCounted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: mounts a tmpfs";
  std::string tmpl = (fs::temp_directory_path() / "berth-stats-it-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  fs::path upper = tmpl;
  struct Cleanup {
    fs::path dir;
    ~Cleanup() { (void)removeAll(dir); }
  } cleanup{upper};
  ASSERT_TRUE(makeDirs(upper / "mnt"));
  ASSERT_TRUE(writeFile(upper / "file", std::string(8192, 'a')));
  auto before = diskUsage(upper);
  ASSERT_TRUE(before) << before.error().message();
  {
    auto mnt = Mount::make("tmpfs", (upper / "mnt").string(), "tmpfs", 0, "size=8m");
    ASSERT_TRUE(mnt) << mnt.error().message();
    ASSERT_TRUE(writeFile(upper / "mnt/big", std::string(4 * kMiB, 'b')));
    auto with = diskUsage(upper);
    ASSERT_TRUE(with) << with.error().message();
    // The mount point's own directory is the tmpfs root now: neither it nor its files count.
    EXPECT_EQ(with->inodes, before->inodes - 1);
    EXPECT_LT(with->bytes, before->bytes + kMiB);
  }
  auto after = diskUsage(upper);
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->inodes, before->inodes);
}

}  // namespace
}  // namespace berth::cri::stats
