#pragma once
// persistentVolumeClaim volumes: the claim must be Bound and not being deleted, its
// PersistentVolume must name it back (claimRef), and the PV's source must be one this node
// mounts itself: hostPath (with its type's checks) and local (what a local-path provisioner
// makes; the scheduler already placed the pod by the PV's node affinity). Both are used where
// they are on the node, as upstream's plugins do; network and CSI sources are refused by name.
#include <nlohmann/json.hpp>

#include "common/result.h"
#include "kubelet/volume/object_source.h"
#include "kubelet/volume/paths.h"

namespace berth::kubelet::volume {

struct ClaimedVolume {
  Plugin plugin = Plugin::kHostPath;
  std::string hostPath;
  bool readOnly = false;  // the volume source's readOnly
};

// `source` is the pod volume's persistentVolumeClaim field.
[[nodiscard]] Result<ClaimedVolume> claimedVolume(const nlohmann::json& pod,
                                                  const nlohmann::json& source,
                                                  VolumeObjectSource& objects);

}  // namespace berth::kubelet::volume
