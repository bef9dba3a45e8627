#pragma once
// The kubelet's volumes for one node: sets up a pod's volumes on disk before its containers
// start, keeps projected files current while it runs, and removes everything once the pod is
// gone, from the disk state alone (after a kubelet restart too). The layout is paths.h's.
//
// Calls for one pod are serialized by the caller (the pod worker); calls for different pods may
// run concurrently.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/volume/object_source.h"
#include "kubelet/volume/paths.h"

namespace berth::kubelet::volume {

struct PodVolume {
  Plugin plugin = Plugin::kEmptyDir;
  std::string hostPath;   // the volume on the node: CRI Mount.host_path without a subPath
  bool readOnly = false;  // the plugin's own: configMap, secret, downwardAPI and projected
                          // volumes are mounted read-only into every container
};
// By volume name.
using PodVolumes = std::map<std::string, PodVolume, std::less<>>;

// One volumeMount of a container, as the CRI Mount needs it.
struct ContainerMount {
  std::string hostPath;
  std::string containerPath;
  bool readOnly = false;
};

struct VolumeManagerOptions {
  std::filesystem::path rootDir = kDefaultRootDir;
  // node.status.allocatable (a JSON map of quantities): the default tmpfs size of
  // memory-backed volumes and the default container limits for resourceFieldRef.
  nlohmann::json nodeAllocatable = nlohmann::json::object();
};

class VolumeManager {
 public:
  // objects must outlive the manager.
  VolumeManager(VolumeManagerOptions options, VolumeObjectSource& objects);

  // Makes every volume of the pod (spec.volumes) ready and returns where each one is.
  // Idempotent: the pod sync calls it on every pass. Errors name the volume.
  [[nodiscard]] Result<PodVolumes> setUp(const nlohmann::json& pod);

  // Projects configMap, secret, downwardAPI and projected volumes again from the current
  // objects (a ConfigMap edit reaches a running pod this way); other volumes are untouched.
  [[nodiscard]] Status refresh(const nlohmann::json& pod);

  // The host path for volumeMounts[mountIndex] of a container, with its subPath (or the
  // already expanded subPathExpr) resolved inside the volume and pinned by a bind mount.
  [[nodiscard]] Result<ContainerMount> containerMount(
      const nlohmann::json& pod, const PodVolumes& volumes, std::string_view containerName,
      std::size_t mountIndex, const nlohmann::json& volumeMount,
      std::optional<std::string> expandedSubPathExpr = std::nullopt);

  // Unmounts the pod's tmpfs and subPath mounts found under pods/<uid>/ and removes that
  // directory. Needs nothing but the disk: works after a restart; repeating it, or retrying
  // after a failure halfway, is safe.
  [[nodiscard]] Status tearDown(std::string_view podUid);

  // The pod UIDs that have a directory under pods/ (to tear down orphans after a restart).
  [[nodiscard]] Result<std::vector<std::string>> podsOnDisk() const;

  void setNodeAllocatable(nlohmann::json allocatable);
  const KubeletPaths& paths() const { return paths_; }

 private:
  enum class Pass { kSetUp, kRefresh };
  Result<PodVolumes> setUpVolumes(const nlohmann::json& pod, Pass pass);
  Result<std::optional<PodVolume>> setUpVolume(const nlohmann::json& pod,
                                               const nlohmann::json& volume,
                                               const nlohmann::json& allocatable, Pass pass);
  nlohmann::json nodeAllocatable() const;

  KubeletPaths paths_;
  VolumeObjectSource& objects_;
  mutable std::mutex mu_;
  nlohmann::json nodeAllocatable_;  // guarded by mu_
};

}  // namespace berth::kubelet::volume
