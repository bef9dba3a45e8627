#include "kubelet/volume/volume_manager.h"

#include <sys/stat.h>

#include <system_error>

#include "common/file_util.h"
#include "common/mount.h"
#include "common/scope_guard.h"
#include "kubeapi/go_format.h"
#include "kubeapi/object_meta.h"
#include "kubelet/kubelet_log.h"
#include "kubelet/volume/atomic_writer.h"
#include "kubelet/volume/empty_dir.h"
#include "kubelet/volume/host_path.h"
#include "kubelet/volume/json_fields.h"
#include "kubelet/volume/ownership.h"
#include "kubelet/volume/payload.h"
#include "kubelet/volume/persistent_volume.h"
#include "kubelet/volume/remove_tree.h"
#include "kubelet/volume/subpath.h"

namespace berth::kubelet::volume {
namespace fs = std::filesystem;
using kubeapi::goQuote;
using nlohmann::json;

namespace {

spdlog::logger& logger() {
  static const auto log = kubeletLog();
  return *log;
}

struct SourceKey {
  Plugin plugin;
  const char* key;  // the VolumeSource field
};
constexpr SourceKey kSourceKeys[] = {
    {Plugin::kEmptyDir, "emptyDir"},       {Plugin::kHostPath, "hostPath"},
    {Plugin::kConfigMap, "configMap"},     {Plugin::kSecret, "secret"},
    {Plugin::kDownwardApi, "downwardAPI"}, {Plugin::kProjected, "projected"},
};

Result<std::pair<Plugin, const json*>> sourceOf(const json& volume) {
  for (const auto& [plugin, key] : kSourceKeys)
    if (volume.contains(key)) return std::pair{plugin, &volume[key]};
  for (const auto& [key, _] : volume.items())
    if (key != "name")
      return fail(Code::kUnimplemented, "volume type {} is not supported by this kubelet", key);
  return fail(Code::kInvalidArgument, "no volume source");
}

// The plugins whose files AtomicWriter keeps current.
bool isProjection(Plugin plugin) {
  return plugin == Plugin::kConfigMap || plugin == Plugin::kSecret ||
         plugin == Plugin::kDownwardApi || plugin == Plugin::kProjected;
}

Result<Payload> projectionPayload(Plugin plugin, const json& source, const ProjectionContext& ctx) {
  switch (plugin) {
    case Plugin::kConfigMap:
      return configMapVolumePayload(source, ctx);
    case Plugin::kSecret:
      return secretVolumePayload(source, ctx);
    case Plugin::kDownwardApi:
      return downwardApiVolumePayload(source, ctx);
    default:
      return projectedVolumePayload(source, ctx);
  }
}

// The entries of dir, symlinks left out (nothing of ours is one); none when dir is missing.
Result<std::vector<fs::path>> entriesOf(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (!it->is_symlink(ec)) out.push_back(it->path());
  if (ec && ec != std::errc::no_such_file_or_directory)
    return failErrno(ec.value(), fmt::format("list {}", dir.string()));
  return out;
}

// Mount points of other volumes nested inside this one, made as directories in it: the volume
// is read-only in the container, so the runtime could not create them there
// (MakeNestedMountpoints).
Status makeNestedMountpoints(const json& pod, std::string_view volumeName, const fs::path& dir) {
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    json::json_pointer ptr = "/spec"_json_pointer / list;
    if (!pod.contains(ptr) || !pod.at(ptr).is_array()) continue;
    for (const json& c : pod.at(ptr)) {
      const json mounts = c.value("volumeMounts", json::array());
      for (const json& mine : mounts) {
        if (mine.value("name", "") != volumeName) continue;
        fs::path base = fs::path(mine.value("mountPath", "")).lexically_normal();
        for (const json& other : mounts) {
          fs::path rel =
              fs::path(other.value("mountPath", "")).lexically_normal().lexically_relative(base);
          if (rel.empty() || rel == "." || *rel.begin() == "..") continue;  // not nested
          BERTH_TRY(makeDirs(dir / rel, 0755));
        }
      }
    }
  }
  return {};
}

Result<PodVolume> setUpEmptyDir(const json& pod, const json& source, const fs::path& dir,
                                const json& allocatable) {
  std::string medium = source.value("medium", "");
  bool fresh;
  if (medium.empty()) {
    fresh = !fs::exists(fs::symlink_status(dir));
    BERTH_TRY(setUpEmptyDirectory(dir));
  } else if (medium == "Memory") {
    std::int64_t size =
        BERTH_TRY(memoryBackedVolumeSize(pod, source.value("sizeLimit", json()), allocatable));
    fresh = BERTH_TRY(setUpTmpfs(dir, size));
  } else {
    return fail(Code::kUnimplemented, "emptyDir.medium {}: not supported by this kubelet",
                goQuote(medium));
  }
  // Once, when the volume is new, as upstream's SetUp runs once per mount: files the pod
  // chmods later keep their modes.
  if (auto fsGroup = fsGroupOf(pod); fsGroup && fresh)
    BERTH_TRY(setVolumeOwnership(dir, *fsGroup, false, fsGroupChangePolicyOf(pod)));
  return PodVolume{Plugin::kEmptyDir, dir.string(), false};
}

}  // namespace

VolumeManager::VolumeManager(VolumeManagerOptions options, VolumeObjectSource& objects)
    : paths_(std::move(options.rootDir)),
      objects_(objects),
      nodeAllocatable_(std::move(options.nodeAllocatable)) {}

void VolumeManager::setNodeAllocatable(json allocatable) {
  std::lock_guard lock(mu_);
  nodeAllocatable_ = std::move(allocatable);
}

json VolumeManager::nodeAllocatable() const {
  std::lock_guard lock(mu_);
  return nodeAllocatable_;
}

Result<PodVolumes> VolumeManager::setUp(const json& pod) {
  return setUpVolumes(pod, Pass::kSetUp);
}

Status VolumeManager::refresh(const json& pod) {
  BERTH_TRY(setUpVolumes(pod, Pass::kRefresh));
  return {};
}

Result<PodVolumes> VolumeManager::setUpVolumes(const json& pod, Pass pass) {
  std::string uid(kubeapi::uidOf(pod));
  BERTH_TRY(checkPathComponent("pod UID", uid));
  BERTH_TRY(makeDirs(paths_.volumesDir(uid), 0750));
  json allocatable = nodeAllocatable();
  static const auto volumesPtr = "/spec/volumes"_json_pointer;
  const json& volumes = pod.contains(volumesPtr) ? pod.at(volumesPtr) : json::array();
  PodVolumes out;
  for (std::size_t i = 0; i < volumes.size(); ++i) {
    std::string name =
        BERTH_TRY(stringField(volumes[i], "name", fmt::format("spec.volumes[{}]", i)));
    BERTH_TRY(checkPathComponent("volume name", name));
    auto volume = BERTH_TRY_CTX(setUpVolume(pod, volumes[i], allocatable, pass),
                                fmt::format("volume {}", goQuote(name)));
    if (volume) out.emplace(name, std::move(*volume));
  }
  return out;
}

Result<std::optional<PodVolume>> VolumeManager::setUpVolume(const json& pod, const json& volume,
                                                            const json& allocatable, Pass pass) {
  if (const json& claim = volume.value("persistentVolumeClaim", json()); claim.is_object()) {
    if (pass == Pass::kRefresh) return std::nullopt;
    ClaimedVolume c = BERTH_TRY(claimedVolume(pod, claim, objects_));
    return PodVolume{c.plugin, c.hostPath, c.readOnly};
  }
  auto [plugin, source] = BERTH_TRY(sourceOf(volume));
  if (pass == Pass::kRefresh && !isProjection(plugin)) return std::nullopt;
  if (plugin == Plugin::kHostPath) {
    std::string path = BERTH_TRY(stringField(*source, "path", "hostPath"));
    BERTH_TRY(checkHostPathType(path, source->value("type", "")));
    return PodVolume{plugin, path, false};
  }
  fs::path dir = paths_.volumeDir(kubeapi::uidOf(pod), plugin, volume["name"].get<std::string>());
  if (plugin == Plugin::kEmptyDir) return setUpEmptyDir(pod, *source, dir, allocatable);

  // The payload first: a missing object leaves nothing behind.
  std::optional<gid_t> fsGroup = fsGroupOf(pod);
  ProjectionContext ctx{pod, objects_, allocatable, fsUserOf(pod), fsGroup};
  Payload payload = BERTH_TRY(projectionPayload(plugin, *source, ctx));
  // configMap sits on disk as upstream's does; the others wrap a Memory emptyDir.
  bool mounted = false;
  if (plugin == Plugin::kConfigMap)
    BERTH_TRY(setUpEmptyDirectory(dir));
  else
    mounted =
        BERTH_TRY(setUpTmpfs(dir, BERTH_TRY(memoryBackedVolumeSize(pod, json(), allocatable))));
  auto undo = defer([&] {
    if (!mounted) return;
    (void)detachAll(dir.string());
    (void)removeTreeOneFilesystem(dir);
  });
  BERTH_TRY(makeNestedMountpoints(pod, volume["name"].get<std::string>(), dir));
  AtomicWriter writer = BERTH_TRY(AtomicWriter::open(dir));
  AtomicWriter::SetPerms setPerms;
  if (fsGroup) {
    // The whole volume, not just the new timestamped dir: the first write also makes the
    // top-level links (as upstream's setPerms).
    setPerms = [dir, group = *fsGroup](const fs::path&) {
      return setVolumeOwnership(dir, group, /*readOnly=*/true);
    };
  }
  if (BERTH_TRY(writer.write(payload, setPerms)))
    logger().info("projected volume files [pod={}/{} volume={} files={}]",
                  kubeapi::namespaceOf(pod), kubeapi::nameOf(pod),
                  volume["name"].get<std::string>(), payload.size());
  undo.cancel();
  return PodVolume{plugin, dir.string(), true};
}

Result<ContainerMount> VolumeManager::containerMount(
    const json& pod, const PodVolumes& volumes, std::string_view containerName,
    std::size_t mountIndex, const json& volumeMount,
    std::optional<std::string> expandedSubPathExpr) {
  std::string name = volumeMount.value("name", "");
  auto it = volumes.find(name);
  if (it == volumes.end())
    return fail(Code::kNotFound, "cannot find volume {} to mount into container {}", goQuote(name),
                goQuote(containerName));
  std::string where =
      fmt::format("container {} volumeMounts[{}]", goQuote(containerName), mountIndex);
  ContainerMount mount;
  mount.hostPath = it->second.hostPath;
  mount.containerPath = BERTH_TRY(stringField(volumeMount, "mountPath", where));
  mount.readOnly = boolField(volumeMount, "readOnly") || it->second.readOnly;

  std::string subPath = volumeMount.value("subPath", "");
  if (expandedSubPathExpr)
    subPath = std::move(*expandedSubPathExpr);
  else if (!volumeMount.value("subPathExpr", "").empty())
    return fail(Code::kInvalidArgument, "{}: subPathExpr is to be expanded by the caller", where);
  if (subPath.empty()) return mount;

  std::string uid(kubeapi::uidOf(pod));
  BERTH_TRY(checkPathComponent("pod UID", uid));
  BERTH_TRY(checkPathComponent("container name", containerName));
  UniqueFd target = BERTH_TRY_CTX(openSubPath(mount.hostPath, subPath), where);
  fs::path pinned = paths_.subPathMount(uid, name, containerName, mountIndex);
  BERTH_TRY_CTX(bindSubPath(target.get(), pinned), where);
  mount.hostPath = pinned.string();
  return mount;
}

Status VolumeManager::tearDown(std::string_view podUid) {
  BERTH_TRY(checkPathComponent("pod UID", podUid));
  // subPath binds first: they pin paths inside the volumes.
  for (const auto& vol : BERTH_TRY(entriesOf(paths_.subPathsDir(podUid))))
    for (const auto& ctr : BERTH_TRY(entriesOf(vol)))
      for (const auto& idx : BERTH_TRY(entriesOf(ctr)))
        BERTH_TRY(detachAll(idx.string()));
  for (const auto& plugin : BERTH_TRY(entriesOf(paths_.volumesDir(podUid))))
    for (const auto& vol : BERTH_TRY(entriesOf(plugin)))
      BERTH_TRY(detachAll(vol.string()));
  BERTH_TRY_CTX(removeTreeOneFilesystem(paths_.podDir(podUid)),
                fmt::format("tear down pod {}", podUid));
  logger().debug("pod volumes torn down [pod={}]", podUid);
  return {};
}

Result<std::vector<std::string>> VolumeManager::podsOnDisk() const {
  std::vector<std::string> out;
  for (const auto& p : BERTH_TRY(entriesOf(paths_.podsDir())))
    out.push_back(p.filename().string());
  return out;
}

}  // namespace berth::kubelet::volume
