// The volume layer with real mounts: tmpfs for memory-backed volumes, bind mounts for subPaths,
// and teardown from the disk state. Root; every test skips without it.

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/mount.h"
#include "common/temp_dir_for_test.h"
#include "kubelet/volume/empty_dir.h"
#include "kubelet/volume/object_source_for_test.h"
#include "kubelet/volume/volume_manager.h"

namespace berth::kubelet::volume {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::int64_t kMiB = 1024 * 1024;

// Mount points at or under dir, from /proc/self/mountinfo.
std::vector<std::string> mountsUnder(const fs::path& dir) {
  std::vector<std::string> out;
  auto info = readFile("/proc/self/mountinfo");
  if (!info) return {"<" + info.error().message() + ">"};
  std::istringstream lines(*info);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mountPoint;
    fields >> id >> parent >> dev >> root >> mountPoint;
    if (mountPoint == dir.string() || mountPoint.starts_with(dir.string() + "/"))
      out.push_back(mountPoint);
  }
  return out;
}

std::int64_t tmpfsSize(const std::string& dir) {
  struct statfs s {};
  if (::statfs(dir.c_str(), &s) < 0) return -1;
  return static_cast<std::int64_t>(s.f_blocks) * s.f_bsize;
}

class VolumeMountTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    // A mount namespace of the test's own: what a failing test leaves mounted goes with the
    // process instead of staying on the host.
    if (::unshare(CLONE_NEWNS) == 0) ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
  }
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: mounts tmpfs and bind mounts";
    ASSERT_FALSE(tmp_.path().empty());
    objects_.putSecret("default", "creds",
                       json::parse(R"({"data": {"password": "aHVudGVyMg=="}})"));
  }
  fs::path root() const { return tmp_.path() / "kubelet"; }
  fs::path volumeDir(const char* plugin, const char* name) const {
    return root() / "pods/uid-1/volumes" / plugin / name;
  }
  std::string read(const fs::path& p) {
    auto r = readFile(p);
    return r ? *r : "<" + r.error().message() + ">";
  }
  static json podWith(json volumes, json containerLimits = nullptr) {
    json pod = json::parse(R"({"metadata": {"name": "p", "namespace": "default", "uid": "uid-1"},
                               "spec": {"containers": [{"name": "app"}]}})");
    pod["spec"]["volumes"] = std::move(volumes);
    if (!containerLimits.is_null())
      pod["spec"]["containers"][0]["resources"]["limits"] = std::move(containerLimits);
    return pod;
  }

  berth::testing::TempDir tmp_{"berth-volume-mount"};
  MapObjectSource objects_;
  json allocatable_ = json::parse(R"({"memory": "64Mi", "cpu": "2"})");
  VolumeManager manager_{{.rootDir = root(), .nodeAllocatable = allocatable_}, objects_};
};

TEST_F(VolumeMountTest, MemoryEmptyDirIsATmpfsSizedAsTheKubeletSizesIt) {
  json volumes = json::parse(R"([
    {"name": "limited", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
    {"name": "bypod", "emptyDir": {"medium": "Memory"}},
    {"name": "toolarge", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}}
  ])");
  // The container's 32Mi limit bounds the volumes without a smaller sizeLimit.
  auto vols = manager_.setUp(podWith(volumes, json{{"memory", "32Mi"}}));
  ASSERT_TRUE(vols) << vols.error().message();
  for (const char* name : {"limited", "bypod", "toolarge"}) {
    auto tmpfs = isTmpfsMountPoint(vols->at(name).hostPath);
    ASSERT_TRUE(tmpfs && *tmpfs) << name;
  }
  EXPECT_EQ(tmpfsSize(vols->at("limited").hostPath), 16 * kMiB);
  EXPECT_EQ(tmpfsSize(vols->at("bypod").hostPath), 32 * kMiB);
  EXPECT_EQ(tmpfsSize(vols->at("toolarge").hostPath), 32 * kMiB);
  // Set up again: still one mount each.
  ASSERT_TRUE(manager_.setUp(podWith(volumes, json{{"memory", "32Mi"}})));
  EXPECT_EQ(mountsUnder(root()).size(), 3u);
  ASSERT_TRUE(manager_.tearDown("uid-1"));

  // Without a pod limit: node allocatable memory.
  auto noLimit =
      manager_.setUp(podWith(json::parse(R"([{"name": "m", "emptyDir": {"medium": "Memory"}}])")));
  ASSERT_TRUE(noLimit) << noLimit.error().message();
  EXPECT_EQ(tmpfsSize(noLimit->at("m").hostPath), 64 * kMiB);
}

TEST_F(VolumeMountTest, SecretDownwardApiAndProjectedVolumesAreTmpfsOwnedByTheFsGroup) {
  json pod = podWith(json::parse(R"([
    {"name": "s", "secret": {"secretName": "creds", "defaultMode": 256}},
    {"name": "d", "downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}},
    {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
    {"name": "c", "configMap": {"name": "absent", "optional": true}}
  ])"));
  pod["spec"]["securityContext"]["fsGroup"] = 4321;
  auto vols = manager_.setUp(pod);
  ASSERT_TRUE(vols) << vols.error().message();
  for (const char* name : {"s", "d", "p"}) {
    auto tmpfs = isTmpfsMountPoint(vols->at(name).hostPath);
    ASSERT_TRUE(tmpfs && *tmpfs) << name;
  }
  auto cmTmpfs = isTmpfsMountPoint(vols->at("c").hostPath);
  ASSERT_TRUE(cmTmpfs);
  EXPECT_FALSE(*cmTmpfs) << "a configMap stays on disk";

  EXPECT_EQ(read(volumeDir("kubernetes.io~secret", "s") / "password"), "hunter2");
  EXPECT_EQ(read(volumeDir("kubernetes.io~downward-api", "d") / "name"), "p");
  EXPECT_EQ(read(volumeDir("kubernetes.io~projected", "p") / "token"), "token-1");
  struct stat st {};
  // defaultMode 0400 gains group read; the token's 0600 becomes 0640; dirs get setgid.
  ASSERT_EQ(::stat((volumeDir("kubernetes.io~secret", "s") / "password").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0440u);
  EXPECT_EQ(st.st_gid, 4321u);
  ASSERT_EQ(::stat((volumeDir("kubernetes.io~projected", "p") / "token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, 4321u);
  ASSERT_EQ(::stat(volumeDir("kubernetes.io~secret", "s").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_ISGID);
  EXPECT_EQ(st.st_gid, 4321u);

  // A changed secret reaches the volume through refresh, on the same mount.
  objects_.putSecret("default", "creds", json::parse(R"({"data": {"password": "czNjcjN0"}})"));
  ASSERT_TRUE(manager_.refresh(pod));
  EXPECT_EQ(read(volumeDir("kubernetes.io~secret", "s") / "password"), "s3cr3t");
  EXPECT_EQ(mountsUnder(root()).size(), 3u);
}

TEST_F(VolumeMountTest, AFailedProjectionLeavesNoMountBehind) {
  json pod = podWith(json::parse(R"([
    {"name": "p", "projected": {"sources": [{"secret": {"name": "creds", "items": [{"key": "nope", "path": "x"}]}}]}}
  ])"));
  auto vols = manager_.setUp(pod);
  ASSERT_FALSE(vols);
  EXPECT_EQ(vols.error().message(),
            "volume \"p\": sources[0].secret: references non-existent secret key: nope");
  EXPECT_TRUE(mountsUnder(root()).empty());
}

TEST_F(VolumeMountTest, SubPathIsABindMountOfThePathInsideTheVolume) {
  json pod = podWith(json::parse(R"([{"name": "scratch", "emptyDir": {}}])"));
  auto vols = manager_.setUp(pod);
  ASSERT_TRUE(vols) << vols.error().message();
  json mount = json::parse(R"({"name": "scratch", "mountPath": "/logs", "subPath": "app/logs"})");
  auto m = manager_.containerMount(pod, *vols, "app", 0, mount);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->hostPath, (root() / "pods/uid-1/volume-subpaths/scratch/app/0").string());
  EXPECT_EQ(mountsUnder(root()), std::vector<std::string>{m->hostPath});
  ASSERT_TRUE(writeFile(fs::path(m->hostPath) / "out.log", "hello"));
  EXPECT_EQ(read(volumeDir("kubernetes.io~empty-dir", "scratch") / "app/logs/out.log"), "hello");
  // Again (a container restart): replaced, not stacked.
  ASSERT_TRUE(manager_.containerMount(pod, *vols, "app", 0, mount));
  EXPECT_EQ(mountsUnder(root()).size(), 1u);

  // The container swaps the directory for a symlink to the node's /etc.
  fs::path logs = volumeDir("kubernetes.io~empty-dir", "scratch") / "app/logs";
  fs::rename(logs, logs.parent_path() / "old");
  fs::create_symlink("/etc", logs);
  auto escaped = manager_.containerMount(pod, *vols, "app", 1, mount);
  ASSERT_FALSE(escaped);
  EXPECT_NE(escaped.error().message().find("subPath \"app/logs\" leads out of the volume"),
            std::string::npos)
      << escaped.error().message();
}

TEST_F(VolumeMountTest, TearDownAfterARestartUnmountsEverythingFromTheDiskState) {
  json pod = podWith(json::parse(R"([
    {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
    {"name": "s", "secret": {"secretName": "creds"}}
  ])"));
  auto vols = manager_.setUp(pod);
  ASSERT_TRUE(vols) << vols.error().message();
  auto sub = manager_.containerMount(
      pod, *vols, "app", 0, json::parse(R"({"name": "mem", "mountPath": "/d", "subPath": "d"})"));
  ASSERT_TRUE(sub) << sub.error().message();
  ASSERT_EQ(mountsUnder(root()).size(), 3u);

  VolumeManager restarted({.rootDir = root()}, objects_);
  Status st = restarted.tearDown("uid-1");
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(mountsUnder(root()).empty());
  EXPECT_FALSE(fs::exists(root() / "pods/uid-1"));
  EXPECT_TRUE(restarted.tearDown("uid-1"));
}

TEST_F(VolumeMountTest, TearDownThatFailedHalfwayIsRetried) {
  auto vols = manager_.setUp(
      podWith(json::parse(R"([{"name": "mem", "emptyDir": {"medium": "Memory"}}])")));
  ASSERT_TRUE(vols) << vols.error().message();
  // A mount that is not the volume layer's blocks the removal; it is not emptied.
  fs::path foreign = root() / "pods/uid-1/containers/app";
  ASSERT_TRUE(makeDirs(foreign));
  auto m = Mount::make("tmpfs", foreign.string(), "tmpfs", 0, "size=1m");
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_TRUE(writeFile(foreign / "keep", "x"));

  Status first = manager_.tearDown("uid-1");
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message(),
            fmt::format("tear down pod uid-1: remove {}: still a mount point", foreign.string()));
  EXPECT_EQ(mountsUnder(root()), std::vector<std::string>{foreign.string()});
  EXPECT_TRUE(fs::exists(foreign / "keep"));

  ASSERT_TRUE(m->unmount());
  Status second = manager_.tearDown("uid-1");
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(fs::exists(root() / "pods/uid-1"));
}

}  // namespace
}  // namespace berth::kubelet::volume
