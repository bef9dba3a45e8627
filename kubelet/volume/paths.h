#pragma once
// The kubelet's per-pod directories, laid out as the upstream kubelet lays them out
// (pkg/kubelet/kubelet_getters.go, pkg/volume/util/subpath), so tools that know that tree find
// their way here:
//
//   <root>/                              --root-dir, default /var/lib/berth/kubelet
//   └── pods/
//       └── <podUID>/                    removed by VolumeManager::tearDown
//           ├── etc-hosts                the pod's /etc/hosts (written by the pod sync)
//           ├── containers/              per-container files (termination logs), pod sync
//           ├── volumes/
//           │   └── kubernetes.io~<plugin>/        empty-dir, configmap, secret, downward-api,
//           │       │                              projected; hostPath volumes have no dir here
//           │       └── <volumeName>/              the volume itself: a plain dir, or a tmpfs
//           │                                      mount (emptyDir medium Memory, secret,
//           │                                      downward-api, projected); AtomicWriter's
//           │                                      tree inside (atomic_writer.h)
//           └── volume-subpaths/
//               └── <volumeName>/<containerName>/<mountIndex>
//                                        a bind mount of one volumeMount's subPath, pinned
//                                        after a symlink-safe lookup (subpath.h)

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::kubelet::volume {

inline constexpr const char* kDefaultRootDir = "/var/lib/berth/kubelet";

// The in-tree plugins this kubelet implements; their names are upstream's.
enum class Plugin {
  kEmptyDir,
  kConfigMap,
  kSecret,
  kDownwardApi,
  kProjected,
  kHostPath,
  kLocal,  // a `local` PersistentVolume, through a persistentVolumeClaim volume
};

// "kubernetes.io/configmap".
std::string_view pluginName(Plugin plugin);
// The directory name under volumes/: the name with '/' escaped as '~'
// (strings.EscapeQualifiedNameForDisk), "kubernetes.io~configmap".
std::string pluginDirName(Plugin plugin);

// A pod UID, volume name or container name used as one path component: not empty, no '/',
// not "." or "..". The API validates these; the disk layout must not trust that it did.
[[nodiscard]] Status checkPathComponent(std::string_view what, std::string_view name);

class KubeletPaths {
 public:
  explicit KubeletPaths(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path podsDir() const { return root_ / "pods"; }
  std::filesystem::path podDir(std::string_view podUid) const { return podsDir() / podUid; }
  std::filesystem::path etcHosts(std::string_view podUid) const {
    return podDir(podUid) / "etc-hosts";
  }
  std::filesystem::path containersDir(std::string_view podUid) const {
    return podDir(podUid) / "containers";
  }
  std::filesystem::path volumesDir(std::string_view podUid) const {
    return podDir(podUid) / "volumes";
  }
  std::filesystem::path pluginDir(std::string_view podUid, Plugin plugin) const {
    return volumesDir(podUid) / pluginDirName(plugin);
  }
  std::filesystem::path volumeDir(std::string_view podUid, Plugin plugin,
                                  std::string_view volumeName) const {
    return pluginDir(podUid, plugin) / volumeName;
  }
  std::filesystem::path subPathsDir(std::string_view podUid) const {
    return podDir(podUid) / "volume-subpaths";
  }
  std::filesystem::path subPathMount(std::string_view podUid, std::string_view volumeName,
                                     std::string_view containerName, std::size_t mountIndex) const {
    return subPathsDir(podUid) / volumeName / containerName / std::to_string(mountIndex);
  }

 private:
  std::filesystem::path root_;
};

}  // namespace berth::kubelet::volume
