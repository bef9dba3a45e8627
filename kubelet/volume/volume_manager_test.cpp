#include "kubelet/volume/volume_manager.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/temp_dir_for_test.h"
#include "kubelet/volume/object_source_for_test.h"

namespace berth::kubelet::volume {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// The volumes that need no mount: emptyDir on disk, hostPath, configMap.
class VolumeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    ASSERT_TRUE(makeDirs(tmp_.path() / "host/data"));
    objects_.putConfigMap("default", "settings",
                          json::parse(R"({"data": {"level": "debug", "color": "blue"}})"));
    pod_["spec"]["volumes"][2]["hostPath"]["path"] = (tmp_.path() / "host/data").string();
  }
  fs::path root() const { return tmp_.path() / "kubelet"; }
  std::string read(const fs::path& p) {
    auto r = readFile(p);
    return r ? *r : "<" + r.error().message() + ">";
  }

  berth::testing::TempDir tmp_{"berth-volume-manager"};
  MapObjectSource objects_;
  VolumeManager manager_{{.rootDir = root()}, objects_};
  json pod_ = json::parse(R"({
    "metadata": {"name": "web", "namespace": "default", "uid": "pod-uid-1"},
    "spec": {
      "containers": [{"name": "app", "volumeMounts": [
        {"name": "scratch", "mountPath": "/scratch"},
        {"name": "config", "mountPath": "/etc/app", "readOnly": false},
        {"name": "host", "mountPath": "/host", "readOnly": true}]}],
      "volumes": [
        {"name": "scratch", "emptyDir": {}},
        {"name": "config", "configMap": {"name": "settings", "items": [{"key": "level", "path": "level"}]}},
        {"name": "host", "hostPath": {"type": "Directory"}}
      ]
    }
  })");
};

TEST_F(VolumeManagerTest, SetUpLaysVolumesOutAsTheKubeletDoes) {
  auto vols = manager_.setUp(pod_);
  ASSERT_TRUE(vols) << vols.error().message();
  fs::path pod = root() / "pods/pod-uid-1/volumes";
  ASSERT_EQ(vols->size(), 3u);
  EXPECT_EQ(vols->at("scratch").hostPath, (pod / "kubernetes.io~empty-dir/scratch").string());
  EXPECT_EQ(vols->at("config").hostPath, (pod / "kubernetes.io~configmap/config").string());
  EXPECT_EQ(vols->at("host").hostPath, (tmp_.path() / "host/data").string());
  EXPECT_EQ(vols->at("config").plugin, Plugin::kConfigMap);
  EXPECT_TRUE(vols->at("config").readOnly);
  EXPECT_FALSE(vols->at("scratch").readOnly);

  struct stat st {};
  ASSERT_EQ(::stat(vols->at("scratch").hostPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  EXPECT_EQ(read(pod / "kubernetes.io~configmap/config/level"), "debug");
  EXPECT_FALSE(fs::exists(pod / "kubernetes.io~configmap/config/color"));
  EXPECT_FALSE(fs::exists(pod / "kubernetes.io~host-path"));

  // Again, as every pod sync does: same answer, nothing rewritten.
  auto link = fs::read_symlink(pod / "kubernetes.io~configmap/config/..data");
  auto again = manager_.setUp(pod_);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(fs::read_symlink(pod / "kubernetes.io~configmap/config/..data"), link);
}

TEST_F(VolumeManagerTest, MountPointsNestedInAReadOnlyVolumeAreMadeInIt) {
  pod_["spec"]["containers"][0]["volumeMounts"].push_back(
      json{{"name", "scratch"}, {"mountPath", "/etc/app/cache/tmp"}});
  pod_["spec"]["initContainers"] = json::parse(
      R"([{"name": "init", "volumeMounts": [{"name": "scratch", "mountPath": "/etc/app/init"}]}])");
  ASSERT_TRUE(manager_.setUp(pod_));
  fs::path config = root() / "pods/pod-uid-1/volumes/kubernetes.io~configmap/config";
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(config / "cache/tmp")));
  // Only mounts of the container that mounts the volume count.
  EXPECT_FALSE(fs::exists(config / "init"));
}

TEST_F(VolumeManagerTest, RefreshProjectsAChangedConfigMap) {
  ASSERT_TRUE(manager_.setUp(pod_));
  fs::path file = root() / "pods/pod-uid-1/volumes/kubernetes.io~configmap/config/level";
  objects_.putConfigMap("default", "settings", json::parse(R"({"data": {"level": "info"}})"));
  ASSERT_TRUE(manager_.refresh(pod_));
  EXPECT_EQ(read(file), "info");
  // The key going away is an error for a required item, and the old content stays.
  objects_.putConfigMap("default", "settings", json::parse(R"({"data": {}})"));
  Status st = manager_.refresh(pod_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "volume \"config\": configmap references non-existent config key: level");
  EXPECT_EQ(read(file), "info");
}

TEST_F(VolumeManagerTest, ErrorsNameTheVolume) {
  struct Case {
    const char* volume;
    std::string error;
  } cases[] = {
      {R"({"name": "cm", "configMap": {"name": "absent"}})",
       "volume \"cm\": get configmap default/absent: configmaps \"absent\" not found"},
      {R"({"name": "h", "hostPath": {"path": "/nonexistent/berth", "type": "Directory"}})",
       "volume \"h\": hostPath type check failed: /nonexistent/berth is not a directory"},
      {R"({"name": "pvc", "persistentVolumeClaim": {"claimName": "data"}})",
       "volume \"pvc\": error processing PVC default/data: failed to fetch PVC from API server: "
       "persistentvolumeclaims \"data\" not found"},
      {R"({"name": "nfs", "nfs": {"server": "x", "path": "/"}})",
       "volume \"nfs\": volume type nfs is not supported by this kubelet"},
      {R"({"name": "hp", "emptyDir": {"medium": "HugePages"}})",
       "volume \"hp\": emptyDir.medium \"HugePages\": not supported by this kubelet"},
      {R"({"name": "../x", "emptyDir": {}})",
       "volume name \"../x\": not usable as a directory name"},
  };
  for (const auto& c : cases) {
    json pod = pod_;
    pod["spec"]["volumes"] = json::array({json::parse(c.volume)});
    auto r = manager_.setUp(pod);
    ASSERT_FALSE(r) << c.volume;
    EXPECT_EQ(r.error().message(), c.error);
  }
  // A configMap that is missing leaves no volume directory behind.
  EXPECT_FALSE(fs::exists(root() / "pods/pod-uid-1/volumes/kubernetes.io~configmap/cm"));
}

// A claim's volume is its bound PersistentVolume where it is on the node (hostPath or local);
// an unbound claim, a PV bound elsewhere or a network volume is an error naming them.
TEST_F(VolumeManagerTest, ClaimsMountTheirBoundHostPathOrLocalVolume) {
  ASSERT_TRUE(makeDirs(tmp_.path() / "local/pv-1"));
  auto claim = [](const char* name, const char* phase, const char* volume) {
    return json{{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", name}}},
                {"spec", {{"volumeName", volume}}},
                {"status", {{"phase", phase}}}};
  };
  auto pv = [](const char* claimName, json source) {
    json v = {
        {"spec",
         {{"claimRef", {{"namespace", "default"}, {"name", claimName}, {"uid", claimName}}}}}};
    v["spec"].update(source);
    return v;
  };
  objects_.putClaim("default", "local", claim("local", "Bound", "pv-local"));
  objects_.putVolume("pv-local",
                     pv("local", {{"local", {{"path", (tmp_.path() / "local/pv-1").string()}}},
                                  {"nodeAffinity", json::object()}}));
  objects_.putClaim("default", "host", claim("host", "Bound", "pv-host"));
  objects_.putVolume("pv-host", pv("host", {{"hostPath",
                                             {{"path", (tmp_.path() / "host/new").string()},
                                              {"type", "DirectoryOrCreate"}}}}));
  objects_.putClaim("default", "pending", claim("pending", "Pending", ""));
  objects_.putClaim("default", "stolen", claim("stolen", "Bound", "pv-local"));
  objects_.putClaim("default", "nfs", claim("nfs", "Bound", "pv-nfs"));
  objects_.putVolume("pv-nfs", pv("nfs", {{"nfs", {{"server", "x"}, {"path", "/"}}}}));

  json pod = pod_;
  pod["spec"]["volumes"] = json::parse(R"([
      {"name": "a", "persistentVolumeClaim": {"claimName": "local"}},
      {"name": "b", "persistentVolumeClaim": {"claimName": "host", "readOnly": true}}])");
  auto volumes = manager_.setUp(pod);
  ASSERT_TRUE(volumes) << volumes.error().message();
  EXPECT_EQ(volumes->at("a").hostPath, (tmp_.path() / "local/pv-1").string());
  EXPECT_EQ(volumes->at("a").plugin, Plugin::kLocal);
  EXPECT_FALSE(volumes->at("a").readOnly);
  EXPECT_EQ(volumes->at("b").hostPath, (tmp_.path() / "host/new").string());
  EXPECT_TRUE(volumes->at("b").readOnly);
  EXPECT_TRUE(fs::is_directory(tmp_.path() / "host/new"));  // DirectoryOrCreate

  struct Case {
    const char* claim;
    std::string error;
  } cases[] = {
      {"pending",
       "volume \"v\": PVC default/pending has non-bound phase (\"Pending\") or empty "
       "pvc.Spec.VolumeName (\"\")"},
      {"stolen",
       "volume \"v\": PV pv-local is not bound to PVC default/stolen (its claimRef is "
       "default/local)"},
      {"nfs", "volume \"v\": PV pv-nfs: volume type nfs is not supported by this kubelet"},
  };
  for (const auto& c : cases) {
    pod["spec"]["volumes"] =
        json::array({{{"name", "v"}, {"persistentVolumeClaim", {{"claimName", c.claim}}}}});
    auto r = manager_.setUp(pod);
    ASSERT_FALSE(r) << c.claim;
    EXPECT_EQ(r.error().message(), c.error);
  }
}

TEST_F(VolumeManagerTest, ContainerMountsCarryReadOnlyAndPinNothingWithoutSubPath) {
  auto vols = manager_.setUp(pod_);
  ASSERT_TRUE(vols);
  const json& mounts = pod_["spec"]["containers"][0]["volumeMounts"];
  auto scratch = manager_.containerMount(pod_, *vols, "app", 0, mounts[0]);
  auto config = manager_.containerMount(pod_, *vols, "app", 1, mounts[1]);
  auto host = manager_.containerMount(pod_, *vols, "app", 2, mounts[2]);
  ASSERT_TRUE(scratch && config && host);
  EXPECT_EQ(scratch->hostPath, vols->at("scratch").hostPath);
  EXPECT_EQ(scratch->containerPath, "/scratch");
  EXPECT_FALSE(scratch->readOnly);
  EXPECT_TRUE(config->readOnly);  // a configMap is read-only whatever the mount says
  EXPECT_TRUE(host->readOnly);

  auto unknown = manager_.containerMount(pod_, *vols, "app", 3,
                                         json::parse(R"({"name": "nope", "mountPath": "/x"})"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message(),
            "cannot find volume \"nope\" to mount into container \"app\"");
  auto expr = manager_.containerMount(
      pod_, *vols, "app", 4,
      json::parse(R"js({"name": "scratch", "mountPath": "/x", "subPathExpr": "$(POD)"})js"));
  ASSERT_FALSE(expr);
  EXPECT_EQ(expr.error().message(),
            "container \"app\" volumeMounts[4]: subPathExpr is to be expanded by the caller");
  auto escape = manager_.containerMount(
      pod_, *vols, "app", 5,
      json::parse(R"({"name": "scratch", "mountPath": "/x", "subPath": "../../../etc"})"));
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().message(),
            "container \"app\" volumeMounts[5]: subPath \"../../../etc\": must not contain '..'");
}

TEST_F(VolumeManagerTest, TearDownRemovesThePodDirAndIsIdempotent) {
  ASSERT_TRUE(manager_.setUp(pod_));
  ASSERT_TRUE(makeDirs(manager_.paths().containersDir("pod-uid-1") / "app"));
  ASSERT_TRUE(writeFile(manager_.paths().etcHosts("pod-uid-1"), "127.0.0.1 localhost\n"));
  auto pods = manager_.podsOnDisk();
  ASSERT_TRUE(pods);
  EXPECT_EQ(*pods, std::vector<std::string>{"pod-uid-1"});

  // A new manager over the same root: only the disk says what is there.
  VolumeManager restarted({.rootDir = root()}, objects_);
  Status st = restarted.tearDown("pod-uid-1");
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_FALSE(fs::exists(root() / "pods/pod-uid-1"));
  EXPECT_TRUE(fs::exists(tmp_.path() / "host/data")) << "a hostPath is the node's, not ours";
  EXPECT_TRUE(restarted.tearDown("pod-uid-1"));
  EXPECT_TRUE(restarted.tearDown("never-existed"));
  EXPECT_FALSE(restarted.tearDown(".."));
}

TEST(PluginDirNames, AreUpstreams) {
  EXPECT_EQ(pluginDirName(Plugin::kEmptyDir), "kubernetes.io~empty-dir");
  EXPECT_EQ(pluginDirName(Plugin::kConfigMap), "kubernetes.io~configmap");
  EXPECT_EQ(pluginDirName(Plugin::kSecret), "kubernetes.io~secret");
  EXPECT_EQ(pluginDirName(Plugin::kDownwardApi), "kubernetes.io~downward-api");
  EXPECT_EQ(pluginDirName(Plugin::kProjected), "kubernetes.io~projected");
}

}  // namespace
}  // namespace berth::kubelet::volume
